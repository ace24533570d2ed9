/* The graph of one row, as micrograd draws it: every operation of the row's forward pass (each
 * product w*x, each sum, + bias, activation, error y - yhat, square, the sum over the rows and
 * the loss convention's division) a node holding its value and its gradient dL/dnode. The
 * gradients come from the graph itself, micrograd's way: each node knows the local derivative of
 * its value in each of its inputs, and the backward pass visits the nodes from the loss down,
 * adding grad * local to each input. Choosing a node (click, or Enter on a focused one) lights
 * the chain from it to the loss. SVG drawn here, no library. A live page only. */
const fwdbackRowGraph = (function () {
  "use strict";
  /* A node: its key (unique in the graph), label, value, inputs and d(value)/d(input) of each. */
  function Node(key, label, value, inputs, locals) {
    this.key = key; this.label = label; this.value = value;
    this.inputs = inputs || []; this.locals = locals || []; this.grad = 0; this.users = [];
  }

  /* Row i's graph: its nodes in the order made, the loss node last. `net` the page's network
   * (playback.network_document), w its parameter vector, X n arrays of k, Y m arrays of n. */
  function build(net, w, X, Y, i, convention) {
    const n = X.length;
    const nodes = [];
    const make = function (key, label, value, inputs, locals) {
      const node = new Node(key, label, value, inputs, locals);
      (inputs || []).forEach(function (input) { input.users.push(node); });
      nodes.push(node);
      return node;
    };
    const param = function (name) { return make(name, name, w[net.names.indexOf(name)]); };
    const sum = function (key, label, terms) {
      return make(key, label, terms.reduce(function (t, node) { return t + node.value; }, 0), terms, terms.map(function () { return 1; }));
    };
    const product = function (a, b) { return make(a.key + "*" + b.key, a.label + "·" + b.label, a.value * b.value, [a, b], [b.value, a.value]); };
    const activation = function (name, key, label, input) {
      const rule = fwdbackNetwork.ACTIVATIONS[name];
      const v = rule[0](input.value);
      return make(key, label, v, [input], [rule[1](input.value, v)]);
    };
    /* sum of the products, + bias, activation: z (or N, a, yhat where no activation follows) */
    const unit = function (products, bias, zKey, act, activated, outKey) {
      const named = activated ? zKey : outKey;
      const total = bias ? sum("sum " + zKey, "Σ", products) : sum(named, named, products);
      const z = bias ? make(named, named, total.value + bias.value, [total, bias], [1, 1]) : total;
      return activated ? activation(act, outKey, outKey, z) : z;
    };
    const xs = net.inputs.map(function (name, c) { return make("x" + (c + 1), "x" + (c + 1), X[i][c]); });
    const N = net.W_hidden.map(function (names, h) {
      const products = names.map(function (name, c) { return product(param(name), xs[c]); });
      const bias = net.b_hidden[h] ? param(net.b_hidden[h]) : null;
      return unit(products, bias, "z" + (h + 1), net.activation, net.activated, "N" + (h + 1));
    });
    const shape = { k: net.inputs.length, H: net.hidden, m: net.outputs.length, activation: net.activation,
                    output_activation: net.output_activation, bias: net.b_hidden[0] !== "" };
    const fwd = fwdbackNetwork.forward(shape, w, X);
    const link = fwdbackNetwork.link(convention);
    const suffixOf = function (j) { return net.outputs.length > 1 ? String(j + 1) : ""; };
    const logits = function (j, act, activated, outKey) {
      const products = net.W_out[j].map(function (name, h) { return product(param(name), N[h]); });
      const bias = net.b_outputs[j] ? param(net.b_outputs[j]) : null;
      return unit(products, bias, "a" + suffixOf(j), act, activated, outKey);
    };
    const terms = link ? [classifierTerm(make, logits, fwd, Y, i, convention, net, suffixOf)] : net.W_out.map(function (names, j) {
      const suffix = suffixOf(j);
      const yhat = logits(j, net.output_activation, net.out_activated, net.outputs[j]);
      yhat.label = "ŷ" + suffix;
      const y = make("y" + suffix, "y" + suffix, Y[j][i]);
      const error = make("e" + suffix, "e" + suffix + " = y" + suffix + "−ŷ" + suffix, y.value - yhat.value, [y, yhat], [1, -1]);
      return make("e" + suffix + "^2", "e" + suffix + "²", error.value * error.value, [error], [2 * error.value]);
    });
    const Yhat = fwd.Yhat;
    let others = 0;
    for (let r = 0; r < n; r++) {
      if (r === i) { continue; }
      if (link) { others += fwdbackNetwork.lossTerm(convention, fwd.A, Y, r); continue; }
      for (let j = 0; j < Y.length; j++) { const e = Y[j][r] - Yhat[j][r]; others += e * e; }
    }
    const rest = make("other rows", link ? "Σ others' ℓ" : "Σ others' e²", others);
    const total = sum("sum", "Σ rows", terms.concat([rest]));
    const divisor = fwdbackNetwork.divisor(convention, n);
    make("L", "L = Σ/" + divisor, total.value / divisor, [total], [1 / divisor]);
    /* backward: the loss's gradient is 1; each node, after every node that uses it, passes grad * local on */
    nodes.forEach(function (node) { node.grad = 0; });
    nodes[nodes.length - 1].grad = 1;
    for (let t = nodes.length - 1; t >= 0; t--) {
      const node = nodes[t];
      node.inputs.forEach(function (input, c) { input.grad += node.grad * node.locals[c]; });
    }
    return nodes;
  }

  /* A classifier's row term: the logits a_j, the probabilities yhat_j (sigmoid of a; or softmax,
   * each yhat_j from every a_l with dyhat_j/da_l = yhat_j (delta_jl - yhat_l)), and the term
   * l = -sum_j y_j log yhat_j (bce: -(y log yhat + (1 - y) log(1 - yhat))), its value from the
   * logits (network.js), dl/dyhat_j = -y_j/yhat_j (bce: -y/yhat + (1 - y)/(1 - yhat)) and dl/dy_j
   * = -log yhat_j from the logits (bce: -a). The graph's product of these is dL/da = (yhat - y)/n. */
  function classifierTerm(make, logits, fwd, Y, i, convention, net, suffixOf) {
    const m = net.outputs.length;
    const across = fwdbackNetwork.acrossOutputs(net.output_activation);
    const outputs = net.W_out.map(function (names, j) {
      return across ? logits(j, null, false, "a" + suffixOf(j)) : logits(j, net.output_activation, true, net.outputs[j]);
    });
    const yhats = !across ? outputs : outputs.map(function (a, j) {
      const p = fwd.Yhat[j][i];
      return make(net.outputs[j], "ŷ" + suffixOf(j), p, outputs, outputs.map(function (b, l) { return p * ((j === l ? 1 : 0) - fwd.Yhat[l][i]); }));
    });
    yhats.forEach(function (yhat, j) { yhat.label = "ŷ" + suffixOf(j); });
    const ys = Y.map(function (column, j) { return make("y" + suffixOf(j), "y" + suffixOf(j), column[i]); });
    const over = function (top, bottom) { return top === 0 ? 0 : top / bottom; };
    const row = fwd.A.map(function (a) { return [a[i]]; });
    const minusLog = function (j) { return fwdbackNetwork.lossTerm(convention, row, row.map(function (a, l) { return [l === j ? 1 : 0]; }), 0); };
    const locals = m === 1
      ? [over(-ys[0].value, yhats[0].value) + over(1 - ys[0].value, 1 - yhats[0].value), -fwd.A[0][i]]
      : yhats.map(function (yhat, j) { return over(-ys[j].value, yhat.value); }).concat(ys.map(function (y, j) { return minusLog(j); }));
    return make("term", m === 1 ? "ℓ = −(y log ŷ + (1−y) log(1−ŷ))" : "ℓ = −Σⱼ yⱼ log ŷⱼ",
                fwdbackNetwork.lossTerm(convention, fwd.A, Y, i), yhats.concat(ys), locals);
  }

  return { build: build };
})();

(function () {
  "use strict";
  const page = window.fwdbackPage;
  if (!page || !page.live) { return; }
  const SVG = "http://www.w3.org/2000/svg";
  const net = page.net, g6 = page.g6;
  const HIGH = 40, GAP = 22, ROW = 50, MOST_NODES = 400;
  let WIDE = 150;  /* a box's width: its longest text's, measured at each drawing, and 6 px either side */

  const section = document.createElement("section");
  section.id = "row-graph";
  section.innerHTML = "<h2>The graph of one row</h2><p class=\"caption\">Every operation of one row's forward pass, a node with " +
    "its value and its gradient ∂L/∂node (this row's part of each parameter's gradient). Choose a node (click it, or Tab to it and " +
    "press Enter) to light its chain to the loss.</p>" +
    '<p><label>Row <input id="graph-row" type="number" min="1" step="1" value="1" aria-label="Row of the graph"></label> ' +
    '<output id="graph-chosen" aria-live="polite"></output></p><figure class="scroll" id="graph-figure"></figure>';
  document.getElementById("rows").closest("section").after(section);  /* after the rows table, whose rows it takes */
  const rowField = section.querySelector("#graph-row");
  const chosenLabel = section.querySelector("#graph-chosen");
  let chosen = null;

  /* Columns: an operation one to the right of its deepest input; an input (x, y, a parameter)
   * one to the left of the first node that uses it. */
  function place(nodes) {
    nodes.forEach(function (node) {
      node.column = node.inputs.length ? 1 + Math.max.apply(null, node.inputs.map(function (input) { return input.column; })) : 0;
    });
    nodes.forEach(function (node) {
      if (!node.inputs.length) { node.column = Math.max(0, Math.min.apply(null, node.users.map(function (user) { return user.column; })) - 1); }
    });
    const filled = [];
    nodes.forEach(function (node) {
      node.place = filled[node.column] = (filled[node.column] || 0) + 1;
    });
    const tallest = Math.max.apply(null, filled.filter(Boolean));
    nodes.forEach(function (node) {
      node.x = 10 + node.column * (WIDE + GAP);
      node.y = 10 + (node.place - 1) * ROW + (tallest - filled[node.column]) * ROW / 2;
    });
    return { width: 20 + (filled.length - 1) * (WIDE + GAP) + WIDE, height: 20 + tallest * ROW };
  }

  function element(name, attributes, parent) {
    const made = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) { made.setAttribute(key, attributes[key]); });
    if (parent) { parent.appendChild(made); }
    return made;
  }

  /* The widest of the boxes' texts, in px, as the figure's font draws them. */
  function widest(texts, figure) {
    const probe = element("svg", { class: "row-graph", width: 0, height: 0 }, figure);
    const lengths = texts.map(function (text) {
      const made = element("text", { class: text[0] }, probe);
      made.textContent = text[1];
      return made.getComputedTextLength();
    });
    probe.remove();
    return Math.max.apply(null, lengths);
  }
  /* The row shown: the field's whole number from 1 to the rows' count, or, while it holds none, the last it held. */
  let row = 1;
  function readRow() {
    const n = page.X.length;
    rowField.max = String(n);
    const typed = page.typedNumber(rowField);
    if (typed !== null && Number.isInteger(typed) && typed >= 1 && typed <= n) {
      row = typed;
      page.markField(rowField, null);
    } else {
      row = Math.min(row, n);
      page.markField(rowField, "Type a whole row number from 1 to " + n + "; the graph shows row " + row + ".");
    }
  }
  function draw() {
    readRow();
    const nodes = fwdbackRowGraph.build(net, page.weights(), page.X, page.Y, row - 1, page.data.plan.loss);
    const figure = section.querySelector("#graph-figure");
    if (nodes.length > MOST_NODES) {
      figure.innerHTML = '<p class="caption">This network\'s row has ' + nodes.length + " operations, too many to draw.</p>";
      return;
    }
    const texts = nodes.map(function (node) { return [["name", node.label + " = " + g6(node.value)], ["grad", "grad " + g6(node.grad)]]; });
    const measured = widest([].concat.apply([], texts), figure);
    WIDE = measured > 0 ? Math.ceil(measured) + 12 : 150;  /* 0: not laid out (a hidden page), the old fixed width */
    const size = place(nodes);
    const svg = element("svg", { class: "row-graph", viewBox: "0 0 " + size.width + " " + size.height, width: size.width,
                                 height: size.height, role: "group", "aria-label": "The graph of row " + row });
    svg.style.maxWidth = "none";
    const edges = element("g", { class: "edges" }, svg);
    nodes.forEach(function (node) {
      node.inputs.forEach(function (input) {
        element("line", { x1: input.x + WIDE, y1: input.y + HIGH / 2, x2: node.x, y2: node.y + HIGH / 2,
                          "data-from": input.key, "data-to": node.key }, edges);
      });
    });
    nodes.forEach(function (node, t) {
      const group = element("g", { class: "op" + (node.inputs.length ? "" : " leaf"), tabindex: "0", role: "button", "data-node": node.key,
                                   "data-value": String(node.value), "data-grad": String(node.grad),
                                   "aria-label": node.label + " = " + g6(node.value) + ", dL/d(" + node.label + ") = " + g6(node.grad) }, svg);
      element("rect", { x: node.x, y: node.y, width: WIDE, height: HIGH, rx: 5 }, group);
      element("text", { x: node.x + 6, y: node.y + 16, class: "name" }, group).textContent = texts[t][0][1];
      element("text", { x: node.x + 6, y: node.y + 32, class: "grad" }, group).textContent = texts[t][1][1];
      group.addEventListener("click", function () { choose(node.key); });
      group.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); event.stopPropagation(); choose(node.key); }
      });
    });
    figure.innerHTML = "";
    figure.appendChild(svg);
    section.nodes = nodes;
    light();
  }

  /* The chain from the chosen node to the loss: it, every node that uses it, and on, lit. */
  function light() {
    const nodes = section.nodes || [];
    const lit = {};
    const byKey = {};
    nodes.forEach(function (node) { byKey[node.key] = node; });
    const visit = function (node) { if (!lit[node.key]) { lit[node.key] = true; node.users.forEach(visit); } };
    if (chosen !== null && byKey[chosen]) { visit(byKey[chosen]); }
    section.querySelectorAll("[data-node]").forEach(function (g) { g.classList.toggle("lit", !!lit[g.getAttribute("data-node")]); });
    section.querySelectorAll("line[data-from]").forEach(function (line) {
      line.classList.toggle("lit", !!lit[line.getAttribute("data-from")] && !!lit[line.getAttribute("data-to")]);
    });
    const node = byKey[chosen];
    chosenLabel.textContent = node ? "chosen: " + node.label + " = " + g6(node.value) + ", ∂L/∂(" + node.label + ") = " + g6(node.grad) +
      "; its chain to the loss is lit" : "";
  }
  function choose(key) { chosen = chosen === key ? null : key; light(); }

  rowField.addEventListener("input", draw);
  document.addEventListener("fwdback:shown", draw);
  draw();
})();
