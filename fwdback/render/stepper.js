/* Step through one epoch at the weights shown: the forward pass unit by unit for the first rows
 * (each row lit in the rows table), the loss, the backward pass (the output layer's gradients,
 * then each hidden weight's as the chain's named factors), the update. Each step lights the
 * figure's edges and units it involves and writes its equation with the numbers, which are
 * network.js's (the numbers `fwdback explain` prints for these weights). Previous/Next, or the
 * keys [ and ] anywhere outside a field. A live page only (every row is in it). */
(function () {
  "use strict";
  const page = window.fwdbackPage;
  if (!page || !page.live) { return; }
  const net = page.net, g6 = page.g6, sym = page.sym;
  const H = page.shape.H, k = page.shape.k, m = page.shape.m;
  const FORWARD_ROWS = 2;  /* rows worked unit by unit; the rest are the same sums */

  const section = document.createElement("section");
  section.id = "stepper";
  section.innerHTML = '<h2>Step through one epoch</h2><p class="caption">The epoch at the weights shown, one step at a time: ' +
    "the forward pass unit by unit, the loss, the backward pass, the update. Each step lights up what it uses in the figure " +
    "and writes its equation with the numbers. Keys: [ previous step, ] next step.</p>" +
    '<div class="controls" role="group" aria-label="Steps of the epoch"><button id="step-previous" type="button" aria-label="Previous step">◀ Previous step</button>' +
    '<button id="step-next" type="button" aria-label="Next step">Next step ▶</button><output id="step-where" aria-live="polite"></output></div>' +
    '<div id="step-shown" class="panel detail" aria-live="polite" aria-label="The step"></div>';
  document.getElementById("run").after(section);
  const where = section.querySelector("#step-where");
  const shown = section.querySelector("#step-shown");
  let at = 0;

  /* A number that a test can read: its quantity's name and its full value. */
  function q(name, v) { return '<span data-q="' + name + '" data-value="' + v + '">' + g6(v) + "</span>"; }
  function f(v) { const text = g6(v); return text.charAt(0) === "-" ? "(" + text + ")" : text; }
  function p(html) { return '<p class="formula">' + html + "</p>"; }
  function d(top, bottom) { return "∂" + top + "/∂" + bottom; }
  function value(w, name) { return name ? w[page.names.indexOf(name)] : 0; }
  function y(name, i) { return m > 1 ? sym("y" + name.slice(4), i) : sym("y", i); }
  function aName(j) { return !net.out_activated ? net.outputs[j] : (m > 1 ? "a" + (j + 1) : "a"); }
  function zName(h) { return !net.activated ? "N" + (h + 1) : "z" + (h + 1); }
  /* A classifier's (its loss's link: sigmoid for bce, softmax for cross-entropy; "" for a regressor). */
  const link = fwdbackNetwork.link(page.data.plan.loss), across = fwdbackNetwork.acrossOutputs(net.output_activation);
  const classes = page.data.classes;
  function escaped(text) { return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/"/g, "&quot;"); }
  /* Row i's class and its targets, as the loss reads them. */
  function targetLine(i, r) {
    const label = classes ? " (" + escaped(classes.labels[page.classOf(i)]) + ")" : "";
    if (!across) { return p(sym("y", r) + " = " + g6(page.Y[0][i]) + ": row " + r + "'s class" + label + (classes ? ", ŷ = P(" + escaped(classes.labels[1]) + ")" : "")); }
    return p("row " + r + "'s class" + label + ": (" + page.Y.map(function (c, j) { return y(net.outputs[j], r); }).join(", ") + ") = (" +
             page.Y.map(function (c) { return g6(c[i]); }).join(", ") + ")");
  }

  /* The loss step of a squared error: L = (sum of the squared errors) / d(n), the first rows' squares. */
  function squaredLoss(fwd, Y, n) {
    const squares = [];
    for (let i = 0; i < Math.min(2, n); i++) {
      for (let j = 0; j < m; j++) { squares.push(f(Y[j][i] - fwd.Yhat[j][i]) + "²"); }
    }
    return { title: "The loss", edges: [], units: net.outputs.slice(), row: null,
             html: p("L = (Σ<sub>i</sub> " + (m > 1 ? "Σ<sub>j</sub> " : "") + "(y − ŷ)²) / " + page.data.loss_divisor + " = (" +
                     squares.join(" + ") + (n > 2 ? " + ⋯" : "") + ") / " + g6(fwdbackNetwork.divisor(page.data.plan.loss, n)) +
                     " = " + q("loss", page.loss())) };
  }

  /* A classifier's loss step: L = (1/n) sum_i -sum_j y_ij log yhat_ij, computed from the logits
   * (log(1 + e^a) - y a; log sum_j e^(a_j) - sum_j y_j a_j), the first rows' terms with their numbers. */
  function classifierLoss(fwd, Y, n) {
    const rows = Math.min(2, n), divisor = fwdbackNetwork.divisor(page.data.plan.loss, n);
    const shownTerms = [];
    let html = across
      ? p("L = (1/" + page.data.loss_divisor + ") Σ<sub>i</sub> −Σ<sub>j</sub> y<sub>ij</sub> log ŷ<sub>ij</sub> = (1/" + page.data.loss_divisor +
          ") Σ<sub>i</sub> (log Σ<sub>j</sub> e<sup>a<sub>ij</sub></sup> − Σ<sub>j</sub> y<sub>ij</sub> a<sub>ij</sub>), from the logits: no log(0)")
      : p("L = (1/" + page.data.loss_divisor + ") Σ<sub>i</sub> −(y<sub>i</sub> log ŷ<sub>i</sub> + (1 − y<sub>i</sub>) log(1 − ŷ<sub>i</sub>)) = (1/" +
          page.data.loss_divisor + ") Σ<sub>i</sub> (log(1 + e<sup>a<sub>i</sub></sup>) − y<sub>i</sub> a<sub>i</sub>), from the logits: no log(0)");
    for (let i = 0; i < rows; i++) {
      const r = i + 1, term = fwdbackNetwork.lossTerm(page.data.plan.loss, fwd.A, Y, i);
      const picked = Y.map(function (c, j) { return c[i] === 0 ? null : (c[i] === 1 ? "" : f(c[i]) + "·") + f(fwd.A[j][i]); })
        .filter(function (t) { return t !== null; }).join(" + ") || "0";
      const numbers = across
        ? "log(" + fwd.A.map(function (a) { return "e<sup>" + g6(a[i]) + "</sup>"; }).join(" + ") + ") − " + picked
        : "log(1 + e<sup>" + g6(fwd.A[0][i]) + "</sup>) − " + f(Y[0][i]) + "·" + f(fwd.A[0][i]);
      html += p("row " + r + ": " + numbers + " = " + q("term," + r, term));
      shownTerms.push(f(term));
    }
    html += p("L = (" + shownTerms.join(" + ") + (n > rows ? " + ⋯" : "") + ") / " + g6(divisor) + " = " + q("loss", page.loss()));
    return { title: "The loss", edges: [], units: net.outputs.slice(), row: null, html: html };
  }

  /* The cancellation, with row 1's numbers: the loss's derivative by yhat times the output's by a
   * is (yhat - y)/n, which is what network.js (and fwdback) computes at once, never dividing by a
   * probability that rounds to 0 or 1. bce: dL/dyhat = -(1/n)(y/yhat - (1 - y)/(1 - yhat)), dyhat/da =
   * yhat (1 - yhat). cross-entropy: dL/dyhat_l = -(1/n) y_l/yhat_l, dyhat_l/da_j = yhat_l (delta_lj - yhat_j). */
  function cancellation(fwd, back, Y, n) {
    const divisor = fwdbackNetwork.divisor(page.data.plan.loss, n), over = "/" + page.data.loss_divisor;
    const ratio = function (top, bottom) { return top === 0 ? 0 : top / bottom; };
    let html = "";
    if (!across) {
      const o = net.outputs[0], a = aName(0), yv = Y[0][0], p1 = fwd.Yhat[0][0];
      const dLdyhat = -(ratio(yv, p1) - ratio(1 - yv, 1 - p1)) / divisor, slope = p1 * (1 - p1);
      html += p(d("L", sym(o, 1)) + " = −(1" + over + ")(" + sym("y", 1) + "/" + sym(o, 1) + " − (1 − " + sym("y", 1) + ")/(1 − " + sym(o, 1) + ")) = −(1/" +
                g6(divisor) + ")(" + f(yv) + "/" + f(p1) + " − " + f(1 - yv) + "/" + f(1 - p1) + ") = " + q("dL/d" + o + ",1", dLdyhat));
      html += p(d(sym(o, 1), sym(a, 1)) + " = σ′(" + sym(a, 1) + ") = " + sym(o, 1) + "(1 − " + sym(o, 1) + ") = " + f(p1) + "·" + f(1 - p1) +
                " = " + q("d" + o + "/d" + a + ",1", slope));
      html += p(d("L", sym(a, 1)) + " = " + d("L", sym(o, 1)) + " · " + d(sym(o, 1), sym(a, 1)) + " = " + f(dLdyhat) + "·" + f(slope) + " = " +
                q("dL/d" + o + "·d" + o + "/d" + a + ",1", dLdyhat * slope));
      html += p("The cancellation: " + d("L", sym(a, 1)) + " = (" + sym(o, 1) + " − " + sym("y", 1) + ")" + over + " = (" + f(p1) + " − " + f(yv) + ")/" +
                g6(divisor) + " = " + q("dL/d" + a + ",1", back.dL_dA[0][0]) +
                ": the sigmoid's slope ŷ(1 − ŷ) cancels the 1/(ŷ(1 − ŷ)) of the loss's derivative, so the page and fwdback compute (ŷ − y)" + over +
                " at once, which never divides by a probability that rounds to 0 or 1.");
    } else {
      const c = page.classOf(0), oc = net.outputs[c], pc = fwd.Yhat[c][0];
      const dLdyhat = -ratio(Y[c][0], pc) / divisor;
      html += p(d("L", "ŷ<sub>j,1</sub>") + " = −(1" + over + ") y<sub>j,1</sub>/ŷ<sub>j,1</sub>: 0 but for row 1's class, " +
                sym(oc, 1) + ": " + d("L", sym(oc, 1)) + " = −(1/" + g6(divisor) + ")·" + f(Y[c][0]) + "/" + f(pc) + " = " + q("dL/d" + oc + ",1", dLdyhat));
      html += p("The softmax's Jacobian: " + d("ŷ<sub>l</sub>", "a<sub>j</sub>") + " = ŷ<sub>l</sub>(δ<sub>lj</sub> − ŷ<sub>j</sub>), so " +
                d("L", "a<sub>j</sub>") + " = Σ<sub>l</sub> " + d("L", "ŷ<sub>l</sub>") + " · " + d("ŷ<sub>l</sub>", "a<sub>j</sub>") + " = " +
                d("L", sym(oc, 1)) + " · " + sym(oc, 1) + "(δ<sub>" + (c + 1) + "j</sub> − ŷ<sub>j,1</sub>):");
      for (let j = 0; j < m; j++) {
        const a = aName(j), pj = fwd.Yhat[j][0], delta = j === c ? 1 : 0;
        html += p(d("L", sym(a, 1)) + " = " + f(dLdyhat) + "·" + f(pc) + "·(" + delta + " − " + f(pj) + ") = " +
                  q("dL/d" + oc + "·d" + oc + "/d" + a + ",1", dLdyhat * pc * (delta - pj)) + " = (" + sym(net.outputs[j], 1) + " − " +
                  y(net.outputs[j], 1) + ")" + over + " = (" + f(pj) + " − " + f(Y[j][0]) + ")/" + g6(divisor) + " = " + q("dL/d" + a + ",1", back.dL_dA[j][0]));
      }
      html += p("The cancellation: the softmax's Jacobian times the cross-entropy's gradient is (ŷ − y)" + over +
                ", which the page and fwdback compute at once, never dividing by a probability that rounds to 0.");
    }
    return { title: "Backward: the cancellation, row 1", html: html, edges: [], units: net.outputs.slice(), row: 0 };
  }

  /* The steps at weights w: {title, html, edges (parameter names), units (node labels), row}. */
  function steps() {
    const w = page.weights(), P = page.passes(), X = page.X, Y = page.Y, n = X.length;
    const fwd = P.fwd, back = P.back;
    const list = [];
    const rows = Math.min(FORWARD_ROWS, n);
    for (let i = 0; i < rows; i++) {
      const r = i + 1;
      for (let h = 0; h < H; h++) {
        const inputs = net.W_hidden[h];
        const bias = net.b_hidden[h];
        let html = p(sym(zName(h), r) + " = " + inputs.map(function (name, c) { return sym(name) + "·" + sym("x" + (c + 1), r); }).join(" + ") +
          (bias ? " + " + sym(bias) : "") + " = " + inputs.map(function (name, c) { return f(value(w, name)) + "·" + f(X[i][c]); }).join(" + ") +
          (bias ? " + " + f(value(w, bias)) : "") + " = " + q(zName(h) + "," + r, fwd.Z[h][i]));
        if (net.activated) {
          html += p(sym("N" + (h + 1), r) + " = " + net.activation + "(" + sym(zName(h), r) + ") = " + q("N" + (h + 1) + "," + r, fwd.N[h][i]));
        }
        list.push({ title: "Forward, row " + r + ": hidden unit " + (h + 1), html: html, edges: inputs.concat(bias ? [bias] : []),
                    units: net.inputs.concat(["N" + (h + 1)]), row: i });
      }
      for (let j = 0; j < m; j++) {
        const from = net.W_out[j];
        const bias = net.b_outputs[j];
        let html = p(sym(aName(j), r) + " = " + from.map(function (name, h) { return sym(name) + "·" + sym("N" + (h + 1), r); }).join(" + ") +
          (bias ? " + " + sym(bias) : "") + " = " + from.map(function (name, h) { return f(value(w, name)) + "·" + f(fwd.N[h][i]); }).join(" + ") +
          (bias ? " + " + f(value(w, bias)) : "") + " = " + q(aName(j) + "," + r, fwd.A[j][i]));
        if (link && !across) {
          html += p(sym(net.outputs[j], r) + " = σ(" + sym(aName(j), r) + ") = 1/(1 + e<sup>−" + sym(aName(j), r) + "</sup>) = 1/(1 + e<sup>" +
                    g6(-fwd.A[j][i]) + "</sup>) = " + q(net.outputs[j] + "," + r, fwd.Yhat[j][i])) + targetLine(i, r);
        } else if (net.out_activated && !across) {
          html += p(sym(net.outputs[j], r) + " = " + net.output_activation + "(" + sym(aName(j), r) + ") = " + q(net.outputs[j] + "," + r, fwd.Yhat[j][i]));
        }
        if (!link) {
          html += p(y(net.outputs[j], r) + " − " + sym(net.outputs[j], r) + " = " + f(Y[j][i]) + " − " + f(fwd.Yhat[j][i]) + " = " +
            q("error" + (m > 1 ? j + 1 : "") + "," + r, Y[j][i] - fwd.Yhat[j][i]));
        }
        list.push({ title: "Forward, row " + r + ": " + net.outputs[j], html: html, edges: from.concat(bias ? [bias] : []),
                    units: net.W_out[j].map(function (x, h) { return "N" + (h + 1); }).concat([net.outputs[j]]), row: i });
      }
      if (across) {
        const sum = fwd.A.map(function (a, l) { return "e<sup>" + sym(aName(l), r) + "</sup>"; }).join(" + ");
        const sumNumbers = fwd.A.map(function (a) { return "e<sup>" + g6(a[i]) + "</sup>"; }).join(" + ");
        let html = "";
        for (let j = 0; j < m; j++) {
          html += p(sym(net.outputs[j], r) + " = e<sup>" + sym(aName(j), r) + "</sup> / (" + sum + ") = e<sup>" + g6(fwd.A[j][i]) + "</sup> / (" +
                    sumNumbers + ") = " + q(net.outputs[j] + "," + r, fwd.Yhat[j][i]));
        }
        list.push({ title: "Forward, row " + r + ": softmax", html: html + targetLine(i, r), edges: [], units: net.outputs.slice(), row: i });
      }
    }
    if (n > rows) {
      list.push({ title: "Forward, rows " + (rows + 1) + " to " + n, edges: [], units: [], row: null,
                  html: p("The same sums for each of the other " + (n - rows) + " rows: " + sym(net.outputs[0], rows + 1) + " = " +
                          q(net.outputs[0] + "," + (rows + 1), fwd.Yhat[0][rows]) + (n > rows + 1 ? ", ⋯" : "") + " (the rows table shows the first ones).") });
    }
    list.push(link ? classifierLoss(fwd, Y, n) : squaredLoss(fwd, Y, n));
    /* Backward: the output layer (a classifier's first: the cancellation) */
    const scale = "2/" + page.data.loss_divisor;
    if (link) { list.push(cancellation(fwd, back, Y, n)); }
    for (let j = 0; j < m; j++) {
      const o = net.outputs[j];
      let html = link ? "" : p(d("L", sym(o, 1)) + " = −(" + scale + ")(" + y(o, 1) + " − " + sym(o, 1) + ") = " + q("dL/d" + o + ",1", back.dL_dYhat[j][0]));
      if (back.dYhat_dA !== null) {
        html += p(d("L", sym(aName(j), 1)) + " = " + d("L", sym(o, 1)) + " · " + net.output_activation + "′(" + sym(aName(j), 1) + ") = " +
                  f(back.dL_dYhat[j][0]) + "·" + f(back.dYhat_dA[j][0]) + " = " + q("dL/d" + aName(j) + ",1", back.dL_dA[j][0]));
      }
      const oneTerm = function (name, h) {
        const more = n > 1 ? " + ⋯" : "";
        if (h < 0) { return d("L", sym(name)) + " = Σ<sub>i</sub> " + d("L", sym(aName(j), "i")) + " = " + f(back.dL_dA[j][0]) + more; }
        return d("L", sym(name)) + " = Σ<sub>i</sub> " + d("L", sym(aName(j), "i")) + " · " + sym("N" + (h + 1), "i") + " = " +
               f(back.dL_dA[j][0]) + "·" + f(fwd.N[h][0]) + more;
      };
      net.W_out[j].forEach(function (name, h) { html += p(oneTerm(name, h) + " = " + q("dL/d" + name, value(back.gradients, name))); });
      if (net.b_outputs[j]) { html += p(oneTerm(net.b_outputs[j], -1) + " = " + q("dL/d" + net.b_outputs[j], value(back.gradients, net.b_outputs[j]))); }
      list.push({ title: "Backward: the output layer" + (m > 1 ? ", " + o : ""), html: html,
                  edges: net.W_out[j].concat(net.b_outputs[j] ? [net.b_outputs[j]] : []), units: [o], row: 0 });
    }
    /* Backward: each hidden parameter, the chain's factors named */
    for (let h = 0; h < H; h++) {
      const params = net.W_hidden[h].concat(net.b_hidden[h] ? [net.b_hidden[h]] : []);
      params.forEach(function (name, c) {
        const input = c < k;
        const up = net.W_out.map(function (from, j) { return d("L", sym(aName(j), "i")) + " · " + sym(from[h]); }).join(" + ");
        const upNumbers = net.W_out.map(function (from, j) { return f(back.dL_dA[j][0]) + "·" + f(value(w, from[h])); }).join(" + ");
        const slope = back.dN_dZ === null ? "" : " · " + net.activation + "′(" + sym(zName(h), "i") + ")";
        const slopeNumber = back.dN_dZ === null ? "" : "·" + f(back.dN_dZ[h][0]);
        const x = input ? " · " + sym("x" + (c + 1), "i") : "";
        const xNumber = input ? "·" + f(page.X[0][c]) : "";
        const html = p(d("L", sym(name)) + " = Σ<sub>i</sub> " + (m > 1 ? "(" + up + ")" : up) + slope + x) +
          p("row 1: " + (m > 1 ? "(" + upNumbers + ")" : upNumbers) + slopeNumber + xNumber + " = " +
            q("dL/d" + zName(h) + "·" + (input ? "x" : "1") + ",1", back.dL_dZ[h][0] * (input ? page.X[0][c] : 1)) +
            (n > 1 ? "; over the " + n + " rows" : "") + ": " + d("L", sym(name)) + " = " + q("dL/d" + name, value(back.gradients, name)));
        list.push({ title: "Backward: " + name, html: html, edges: [name].concat(net.W_out.map(function (from) { return from[h]; })),
                    units: (input ? [net.inputs[c]] : []).concat(["N" + (h + 1)], net.outputs), row: 0 });
      });
    }
    /* The update */
    let html = "";
    if (!page.data.full_batch) {
      html = p("Training takes batches of " + page.data.plan.batch_size + " rows, one update each: Train from here makes them.");
    } else {
      const done = page.nextUpdate(w, back.gradients);
      if (done === null) {
        html = p(page.stateMissing());
      } else {
        const note = page.stateNote(done);
        if (note) { html += p(note); }
        page.names.forEach(function (name, i) {
          if (page.frozen[name]) { html += p(sym(name) + " = " + g6(w[i]) + " is frozen: it keeps its value"); return; }
          html += p(page.updateRule(i, w, back.gradients, done));
        });
      }
    }
    list.push({ title: "The update", html: html, edges: page.names.slice(), units: [], row: null });
    return list;
  }

  function light(step) {
    document.querySelectorAll("svg.network [data-param]").forEach(function (edge) {
      edge.classList.toggle("lit", step.edges.indexOf(edge.getAttribute("data-param")) >= 0);
    });
    const units = step.units.map(function (name) { return name.replace("yhat", "ŷ"); });  /* as the figure labels them */
    document.querySelectorAll("svg.network g.node").forEach(function (node) {
      const text = node.querySelector("text");
      node.classList.toggle("lit", text !== null && units.indexOf(text.textContent) >= 0);
    });
    document.querySelectorAll("#rows tbody tr").forEach(function (tr, r) { tr.classList.toggle("lit", r === step.row); });
  }

  /* The figure lights a step's edges and units once a person steps; until then it is the run's. */
  let stepping = false;
  const unlit = { edges: [], units: [], row: null };
  function draw() {
    const list = steps();
    at = Math.max(0, Math.min(list.length - 1, at));
    const step = list[at];
    where.textContent = "step " + (at + 1) + " of " + list.length + ": " + step.title;
    shown.innerHTML = "<h3>" + step.title + "</h3>" + step.html;
    shown.setAttribute("data-step", String(at));
    /* At the first or last step its button stops; the focus it held goes to the other one. */
    const previous = section.querySelector("#step-previous"), next = section.querySelector("#step-next");
    const stopped = document.activeElement === previous && at === 0 ? next : document.activeElement === next && at === list.length - 1 ? previous : null;
    previous.disabled = at === 0;
    next.disabled = at === list.length - 1;
    if (stopped !== null) { stopped.focus(); }
    light(stepping ? step : unlit);
  }
  function go(by) { stepping = true; at += by; draw(); }
  section.querySelector("#step-previous").addEventListener("click", function () { go(-1); });
  section.querySelector("#step-next").addEventListener("click", function () { go(1); });
  document.addEventListener("keydown", function (event) {
    const t = event.target;
    if (t.tagName === "INPUT" || t.tagName === "TEXTAREA") { return; }
    if (event.key === "[" || event.key === "]") { event.preventDefault(); go(event.key === "]" ? 1 : -1); }
  });
  document.addEventListener("fwdback:shown", draw);
  draw();
})();
