/* The run page of fwdback: an epoch slider that moves the weights, the gradients, the loss
 * marker and the first rows' values, and the chain rule of any parameter on hover or focus;
 * for a mini-batch run, an update slider that walks the updates within the epoch; on a live page
 * (every row training saw is in it), weights a person sets, with everything recomputed, and
 * training on from them. The run's numbers come from the data block (a --history row per kept
 * epoch, the weights and batch gradients of each kept update), a person's from network.js on the
 * block's rows; nothing is fetched. */
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("fwdback-data").textContent);
  const net = data.network;
  const names = net.names;
  const at = {};
  names.forEach(function (name, i) { at[name] = i; });
  const slider = document.getElementById("epoch");
  const label = document.getElementById("epoch-label");
  const playButton = document.getElementById("play");
  const stepSlider = document.getElementById("step");
  const stepLabel = document.getElementById("step-label");
  const frozen = {};
  net.frozen.forEach(function (name) { frozen[name] = true; });
  /* The kept updates of each epoch, by epoch number: indices into data.steps, in order. */
  const stepsOf = {};
  if (data.steps) {
    data.steps.epochs.forEach(function (epoch, s) { (stepsOf[epoch] = stepsOf[epoch] || []).push(s); });
  }
  const POSITIVE = getComputedStyle(document.documentElement).getPropertyValue("--positive").trim() || "#2166ac";
  const NEGATIVE = getComputedStyle(document.documentElement).getPropertyValue("--negative").trim() || "#b35806";
  let current = 0;
  let step = null; /* the index into data.steps of the update shown; null: the epoch as a whole */
  let timer = null;
  let pinned = null;
  /* Weights a person set, or trained to in the page: {vector, at: passes(vector), from: the kept
   * epoch they started from, trained: the epochs trained in the page, losses: the loss at the
   * start and after each of them, null before training}; null: the run's own. */
  let edited = null;
  let weightsSet = false;  /* a person set a weight since the run's were shown */
  let rowsChanged = false;  /* the rows are a person's (dataplot.js), not the run's */

  /* A whole number thousands separated, as notation.count writes it: 67,740. */
  function count(value) {
    return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  /* 6 significant digits, as Python's "{:.6g}" writes them: 1.23457e-05, 0.0972502, 123457. */
  function g6(value) {
    if (value === 0 || Object.is(value, -0)) { return "0"; }
    if (!isFinite(value)) { return String(value); }
    const parts = value.toExponential(5).split("e");
    const exponent = parseInt(parts[1], 10);
    if (exponent < -4 || exponent >= 6) {
      const mantissa = parts[0].indexOf(".") >= 0 ? parts[0].replace(/0+$/, "").replace(/\.$/, "") : parts[0];
      const digits = String(Math.abs(exponent)).padStart(2, "0");
      return mantissa + "e" + (exponent < 0 ? "-" : "+") + digits;
    }
    let text = value.toFixed(Math.max(0, 5 - exponent));
    if (text.indexOf(".") >= 0) { text = text.replace(/0+$/, "").replace(/\.$/, ""); }
    return text === "-0" ? "0" : text;
  }
  function factor(value) { const text = g6(value); return text.charAt(0) === "-" ? "(" + text + ")" : text; }
  function sym(name, row) {
    if (name.indexOf("yhat") === 0) {
      const sub = name.slice(4) + (row ? (name.length > 4 ? "," : "") + row : "");
      return "ŷ" + (sub ? "<sub>" + sub + "</sub>" : "");
    }
    const sub = name.slice(1) + (row ? (name.length > 1 ? "," : "") + row : "");
    return name.charAt(0) + (sub ? "<sub>" + sub + "</sub>" : "");
  }
  function d(top, bottom) { return "∂" + top + "/∂" + bottom; }
  function colour(value) { return value >= 0 ? POSITIVE : NEGATIVE; }
  /* The weights and gradients shown: the epoch's --history row, or an update's (its start, its batch's). */
  function weights() {
    if (edited !== null) { return edited.vector; }
    return step === null ? data.epochs.weights[current] : data.steps.weights[step];
  }
  function gradients() {
    if (edited !== null) { return edited.at.back.gradients; }
    return step === null ? data.epochs.gradients[current] : data.steps.gradients[step];
  }
  function value(vector, name) { return name ? vector[at[name]] : 0; }  /* "" is an absent bias */
  function targets(r) { const y = data.rows.y[r]; return Array.isArray(y) ? y : [y]; }
  /* A classifier's classes ({column, labels}, null for a regressor) and row r's class: the index of
   * its label, which its targets hold (0/1 for bce, one-hot for cross-entropy). */
  const classes = data.classes;
  function classOf(r) { const y = data.rows.y[r]; return Array.isArray(y) ? y.indexOf(1) : y; }
  /* What output j's chain rule goes through: yhat_j itself, or a_j before an output activation. */
  function outputSym(j) {
    if (!net.out_activated) { return net.outputs[j]; }
    return net.outputs.length > 1 ? "a" + (j + 1) : "a";
  }

  /* The network's shape and rows as network.js takes them: X, n arrays of k; Y, m arrays of n. */
  const M = fwdbackNetwork;
  const shape = { k: net.inputs.length, H: net.hidden, m: net.outputs.length, activation: net.activation,
                  output_activation: net.output_activation, bias: net.b_hidden[0] !== "" };
  const X = data.rows ? data.rows.X : [];
  const Y = net.outputs.map(function (name, j) { return X.map(function (x, r) { return targets(r)[j]; }); });
  const live = data.rows !== null && data.rows.live;

  /* The forward and backward passes at weights w over the page's rows (every row training saw on
   * a live page, else the first ones, their chain-rule terms over all the run's rows). */
  function passes(w) {
    const fwd = M.forward(shape, w, X);
    return { fwd: fwd, back: M.backward(shape, w, X, Y, fwd, data.plan.loss, data.training_rows),
             loss: live ? M.loss(Y, fwd, data.plan.loss) : null };
  }

  /* Row r's values and chain-rule terms, as the table and the chain-rule panel show them. */
  function row(at, r) {
    const column = function (matrix) { return matrix.map(function (unit) { return unit[r]; }); };
    const yhat = column(at.fwd.Yhat);
    return { x: X[r], z: column(at.fwd.Z), N: column(at.fwd.N), yhat: yhat,
             error: targets(r).map(function (y, j) { return y - yhat[j]; }), da: column(at.back.dL_dA), dz: column(at.back.dL_dZ) };
  }
  function forward(w) {
    const at = edited !== null && w === edited.vector ? edited.at : passes(w);
    return X.slice(0, data.rows ? data.rows.shown : 0).map(function (x, r) { return row(at, r); });
  }

  /* A dashed gradient line's width: log10 |dL/dw| on the figure's one scale for the whole run,
   * 1 to 4 px (render/svg.py GradientScale); no line for a gradient of exactly 0. */
  const figure = document.querySelector("svg.network");
  const gradientLow = parseFloat(figure.getAttribute("data-gradient-low"));
  const gradientHigh = parseFloat(figure.getAttribute("data-gradient-high"));
  const widestEdge = parseFloat(figure.getAttribute("data-widest-edge"));
  function gradientWidth(gradient) {
    if (gradient === 0 || !isFinite(gradient)) { return 0; }
    if (!(gradientHigh > gradientLow)) { return 4; }
    const at = (Math.log10(Math.abs(gradient)) - gradientLow) / (gradientHigh - gradientLow);
    return 1 + 3 * Math.min(Math.max(at, 0), 1);
  }
  /* Colour by sign: the stroke for a figure copied out of the page, the class for the figure's
   * own styles (lightened on a dark background); a line that ends the edge takes the arrowhead. */
  function signed(line, v) {
    const sign = v >= 0 ? "positive" : "negative";
    line.setAttribute("stroke", colour(v));
    line.classList.toggle("positive", v >= 0);
    line.classList.toggle("negative", v < 0);
    if (line.hasAttribute("marker-end")) { line.setAttribute("marker-end", "url(#arrow-" + sign + ")"); }
  }

  function drawNetwork() {
    const w = weights();
    const g = gradients();
    const edgeNames = [].concat.apply([], net.W_hidden.concat(net.W_out));
    const largest = Math.max.apply(null, edgeNames.map(function (n) { return Math.abs(value(w, n)); })) || 1;
    document.querySelectorAll("svg.network [data-param]").forEach(function (group) {
      const name = group.getAttribute("data-param");
      const v = value(w, name);
      group.querySelectorAll(".weight").forEach(function (line) {
        signed(line, v);
        line.setAttribute("stroke-width", (1 + (widestEdge - 1) * Math.abs(v) / largest).toFixed(2));
      });
      group.querySelectorAll(".gradient").forEach(function (line) {
        signed(line, -value(g, name));
        line.setAttribute("stroke-width", gradientWidth(value(g, name)).toFixed(2));
      });
      const text = group.querySelector(".value");
      if (text) { text.textContent = g6(v); }
      const title = group.querySelector("title");
      if (title) {
        title.textContent = name + " = " + g6(v) + ", dL/d" + name + " = " + g6(value(g, name)) + (frozen[name] ? " (frozen)" : "");
      }
    });
  }

  function drawTable() {
    const w = weights();
    const g = gradients();
    document.querySelectorAll("#parameters tr[data-param]").forEach(function (row) {
      const name = row.getAttribute("data-param");
      const cells = row.querySelectorAll("td");
      (cells[1].querySelector(".shown") || cells[1]).textContent = g6(value(w, name));
      cells[1].setAttribute("data-value", String(value(w, name)));
      cells[2].textContent = g6(value(g, name));
      cells[2].setAttribute("data-value", String(value(g, name)));
      const field = row.querySelector("input[data-set]");
      if (field && document.activeElement !== field) { showValue(field, value(w, name)); }
    });
    const loss = edited !== null ? edited.at.loss : data.epochs.losses[current];
    const shown = document.getElementById("loss");
    shown.textContent = g6(loss);
    shown.setAttribute("data-value", String(loss));
  }

  function drawRows() {
    const body = document.querySelector("#rows tbody");
    if (!body) { return; }
    body.innerHTML = "";
    forward(weights()).forEach(function (row, r) {
      const cells = [data.rows.numbers[r]].concat(row.x.map(g6), classes ? [classes.labels[classOf(r)]] : [], targets(r).map(g6),
        !net.activated ? [] : row.z.map(g6), row.N.map(g6), row.yhat.map(g6), row.error.map(function (e) { return g6(classes ? -e : e); }));
      const tr = document.createElement("tr");
      cells.forEach(function (text) { const td = document.createElement("td"); td.textContent = text; tr.appendChild(td); });
      body.appendChild(tr);
    });
  }

  /* Where (epoch, loss) falls on the loss chart, in its pixels; null off its axes. */
  const lossPlot = document.querySelector("svg.loss-plot");
  function onChart(epoch, loss) {
    const number = function (name) { return parseFloat(lossPlot.getAttribute("data-" + name)); };
    const scale = function (v, low, high, from, to, log) {
      const t = ((log ? Math.log10(v) : v) - low) / (high - low);
      return t < -1e-9 || t > 1 + 1e-9 ? null : from + t * (to - from);
    };
    if (!(loss > 0) && number("y-log") === 1) { return null; }
    const x = scale(epoch, number("x-low"), number("x-high"), number("left"), number("right"), number("x-log") === 1);
    const y = scale(loss, number("y-low"), number("y-high"), number("bottom"), number("top"), number("y-log") === 1);
    return x === null || y === null ? null : [x, y];
  }
  function drawMarker(epoch, loss) {
    if (!lossPlot) { return; }
    let marker = lossPlot.querySelector("#loss-marker");
    if (!marker) {
      marker = document.createElementNS("http://www.w3.org/2000/svg", "circle");
      marker.setAttribute("id", "loss-marker");
      marker.setAttribute("r", "5");
      marker.setAttribute("fill", "var(--accent)");
      lossPlot.appendChild(marker);
    }
    const at = onChart(epoch, loss);
    marker.setAttribute("visibility", at === null ? "hidden" : "visible");
    if (at !== null) {
      marker.setAttribute("cx", at[0].toFixed(1));
      marker.setAttribute("cy", at[1].toFixed(1));
    }
  }
  /* The losses trained in the page, a second line on the loss chart from the epoch training
   * started at (broken where it leaves the chart's axes), named by its label; the marker at the
   * last. Gone at the run's own weights. */
  function drawTrained() {
    if (!lossPlot) { return; }
    const old = lossPlot.querySelector("#loss-trained");
    if (old) { old.remove(); }
    if (edited === null || edited.losses === null) { return; }
    const start = data.epochs.epochs[edited.from];
    let path = "", inside = false;
    edited.losses.forEach(function (loss, t) {
      const at = onChart(start + t, loss);
      if (at !== null) { path += (inside ? " L" : " M") + at[0].toFixed(1) + "," + at[1].toFixed(1); }
      inside = at !== null;
    });
    const group = document.createElementNS("http://www.w3.org/2000/svg", "g");
    group.setAttribute("id", "loss-trained");
    const line = document.createElementNS("http://www.w3.org/2000/svg", "path");
    line.setAttribute("class", "curve trained");
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", "var(--accent)");
    line.setAttribute("stroke-width", "2");
    line.setAttribute("d", path.trim());
    const last = edited.losses.length - 1;
    const name = document.createElementNS("http://www.w3.org/2000/svg", "text");
    name.setAttribute("x", String(parseFloat(lossPlot.getAttribute("data-right")) - 4));
    name.setAttribute("y", String(parseFloat(lossPlot.getAttribute("data-top")) + 14));
    name.setAttribute("text-anchor", "end");
    name.textContent = "trained in the page: epochs " + count(start) + " to " + count(start + last) + ", loss " + g6(edited.losses[last]) +
      (onChart(start + last, edited.losses[last]) === null ? " (past the chart)" : "");
    group.appendChild(line);
    group.appendChild(name);
    lossPlot.insertBefore(group, lossPlot.querySelector("#loss-marker"));
    drawMarker(start + last, edited.losses[last]);
  }

  /* Where a parameter sits: output j's weight from unit h, its bias (h -1), unit h's weight from input j, or its bias (j -1). */
  function place(name) {
    let found = null;
    net.W_out.forEach(function (names, j) { const h = names.indexOf(name); if (h >= 0) { found = { output: j, unit: h }; } });
    const j = net.b_outputs.indexOf(name);
    if (j >= 0) { found = { output: j, unit: -1 }; }
    net.W_hidden.forEach(function (names, h) { const i = names.indexOf(name); if (i >= 0) { found = { unit: h, input: i }; } });
    const h = net.b_hidden.indexOf(name);
    return found || { unit: h, input: -1 };
  }

  /* The chain rule of one parameter at the current epoch, its numbers plugged in. */
  function chain(name) {
    const w = weights();
    const shown = forward(w).slice(0, 2);
    const more = data.training_rows > shown.length ? " + ⋯" : "";
    const p = place(name);
    let rule;
    let terms;
    if (p.output !== undefined) {
      const o = p.output;
      rule = "Σ<sub>i</sub> " + d("L", sym(outputSym(o), "i")) + (p.unit >= 0 ? " · " + sym("N" + (p.unit + 1), "i") : "");
      terms = shown.map(function (r) { return p.unit >= 0 ? factor(r.da[o]) + "·" + factor(r.N[p.unit]) : factor(r.da[o]); });
    } else {
      const z = !net.activated ? "N" + (p.unit + 1) : "z" + (p.unit + 1);
      rule = "Σ<sub>i</sub> " + d("L", sym(z, "i")) + (p.input >= 0 ? " · " + sym("x" + (p.input + 1), "i") : "");
      terms = shown.map(function (r) { return p.input >= 0 ? factor(r.dz[p.unit]) + "·" + factor(r.x[p.input]) : factor(r.dz[p.unit]); });
    }
    return { rule: rule, terms: terms.join(" + ") + more, gradient: value(gradients(), name), weight: value(w, name) };
  }

  function trajectory(name) {
    const values = data.epochs.weights.map(function (w) { return value(w, name); });
    const low = Math.min.apply(null, values);
    const high = Math.max.apply(null, values);
    const span = high > low ? high - low : 1;
    const count = Math.max(values.length - 1, 1);
    const point = function (v, i) { return (4 + 252 * i / count).toFixed(1) + "," + (66 - 60 * (v - low) / span).toFixed(1); };
    const line = values.map(point).join(" ");
    const now = point(values[current], current).split(",");
    return '<svg class="trajectory" viewBox="0 0 260 72" width="260" height="72" role="img" aria-label="' + name +
      ' over the epochs"><polyline fill="none" stroke="var(--accent)" stroke-width="1.5" points="' + line + '"/>' +
      '<circle r="3.5" fill="var(--text)" cx="' + now[0] + '" cy="' + now[1] + '"/></svg>' +
      '<div class="hint">' + name + " from " + g6(values[0]) + " (epoch " + data.epochs.epochs[0] + ") to " +
      g6(values[values.length - 1]) + " (epoch " + data.epochs.epochs[values.length - 1] + ")</div>";
  }

  /* What the update does with the gradient: w - eta g for gradient descent; frozen, nothing. */
  function updateLine(name, c, when) {
    if (frozen[name]) { return sym(name) + " = " + g6(c.weight) + " is frozen: it keeps its value"; }
    if (live && data.full_batch && step === null) {
      const done = nextUpdate(weights(), gradients());
      if (done === null) { return sym(name) + " = " + g6(c.weight) + " " + when + "; " + stateMissing(); }
      return updateRule(at[name], weights(), gradients(), done) + (data.rule.state.length ? ". " + stateNote(done) : "");
    }
    if (!data.rule.lecture) {
      return sym(name) + " = " + g6(c.weight) + " " + when + "; " + data.plan.optimizer + " makes the update (fwdback explain works it)";
    }
    return sym(name) + " ← " + sym(name) + " − η " + d("L", sym(name)) + " = " + g6(c.weight) + " − " + g6(data.plan.lr) + "·" +
      factor(c.gradient) + " = " + g6(c.weight - data.plan.lr * c.gradient);
  }

  function drawDetail(name) {
    const panel = document.getElementById("detail");
    if (!name) {
      // A touch screen has no hover: a tap pins the edge's panel, a second tap lets it go.
      const hint = window.matchMedia("(hover: none)").matches
        ? "Tap an edge or a bias to see its gradient by the chain rule at this epoch, with the numbers plugged in; tap it again to unpin it."
        : "Hover over or focus an edge or a bias (Tab moves between them) to see its gradient by the chain rule at this epoch, " +
          "with the numbers plugged in; click to pin it.";
      panel.innerHTML = '<h3>Chain rule</h3><p class="hint">' + hint + "</p>";
      return;
    }
    const c = chain(name);
    const epoch = data.epochs.epochs[current];
    const at = step === null ? "" : ", update " + count(data.steps.steps[step]);
    const where = edited === null ? " at epoch " + count(epoch) + at : weightsSet ? " at your weights" + (rowsChanged ? " on your rows" : "")
      : rowsChanged ? " at the run's weights on your rows" : " at the weights trained in the page";
    let html = "<h3>" + sym(name) + where + (pinned ? " (pinned)" : "") + "</h3>";
    const gradient = '<span data-value="' + c.gradient + '">' + g6(c.gradient) + "</span></p>";
    if (edited !== null) {
      html += '<p class="formula" data-role="gradient">' + d("L", sym(name)) + " = " + c.rule + " = " + c.terms + " = " +
        gradient + factors(name) + '<p class="formula" data-role="update">' + liveUpdateLine(name, c) + "</p>";
    } else if (step !== null) {
      const rows = Math.min(data.plan.batch_size, data.training_rows - (data.steps.steps[step] - 1) * data.plan.batch_size);
      html += '<p class="formula" data-role="gradient">' + d("L", sym(name)) + " (this update's batch of " + rows + " rows) = " + gradient + '<p class="formula" data-role="update">' + updateLine(name, c, "before this update") + "</p>";
    } else if (data.full_batch) {
      html += '<p class="formula" data-role="gradient">' + d("L", sym(name)) + " = " + c.rule + " = " + c.terms + " = " +
        gradient + '<p class="formula" data-role="update">' + updateLine(name, c, "at the epoch's start") + "</p>";
    } else {
      html += '<p class="formula" data-role="gradient">' + d("L", sym(name)) + " (mean over the epoch's mini-batches) = " +
        gradient + '<p class="formula" data-role="update">' + sym(name) + " = " + g6(c.weight) + " at the epoch's start</p>";
    }
    panel.innerHTML = html + trajectory(name);
  }

  function show(i) {
    current = Math.max(0, Math.min(data.epochs.epochs.length - 1, i));
    step = null;
    slider.value = String(current);
    const epoch = data.epochs.epochs[current];
    const loss = data.epochs.losses[current];
    label.textContent = "epoch " + count(epoch) + " of " + count(data.last_epoch) + ", loss " + g6(loss);
    slider.setAttribute("aria-valuetext", label.textContent);
    if (stepSlider) { stepSlider.max = String((stepsOf[epoch] || []).length); }
    drawMarker(epoch, loss);
    showStep(0);
  }

  /* Update k of the kept updates of the epoch shown (0: the epoch as a whole). */
  function showStep(k) {
    const kept = stepsOf[data.epochs.epochs[current]] || [];
    const position = Math.max(0, Math.min(kept.length, k));
    leave();
    step = position === 0 ? null : kept[position - 1];
    if (stepSlider) {
      stepSlider.value = String(position);
      stepLabel.textContent = step === null
        ? "the whole epoch: the weights at its start, the mean gradient of its " + count(data.steps.per_epoch) + " updates"
        : "update " + count(data.steps.steps[step]) + " of " + count(data.steps.per_epoch) + ": the weights it starts from, its batch's gradients";
      stepSlider.setAttribute("aria-valuetext", stepLabel.textContent);
    }
    drawNetwork();
    drawTable();
    drawRows();
    drawDetail(pinned);
    drawCommand();
    document.dispatchEvent(new CustomEvent("fwdback:shown"));
  }

  function play() {
    if (edited !== null || training !== null) { train(); return; }  /* a person's weights play on by training */
    if (timer !== null) { stop(); return; }
    if (current >= data.epochs.epochs.length - 1) { show(0); }
    const step = Math.max(1, Math.round(data.epochs.epochs.length / 240));
    playButton.textContent = "❚❚ Pause";
    playButton.setAttribute("aria-pressed", "true");
    timer = setInterval(function () {
      show(current + step);
      if (current >= data.epochs.epochs.length - 1) { stop(); }
    }, 40);
  }
  function stop() {
    clearInterval(timer);
    timer = null;
    playButton.textContent = "▶ Play";
    playButton.setAttribute("aria-pressed", "false");
  }

  /* A file made in the page (a Blob URL, so nothing is fetched), downloaded under `name`. */
  function download(name, text, type) {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: type }));
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
  }
  function weightsFile() {
    if (edited !== null) { return "weights.json"; }
    return "weights-epoch-" + data.epochs.epochs[current] + (step === null ? "" : "-update-" + data.steps.steps[step]) + ".json";
  }
  /* The weights shown as a file of their own: {"w1": ..., "b3": ...}, which `fwdback train DATA
   * --init FILE` starts from. */
  function saveWeights() {
    const w = weights();
    const text = "{\n" + names.map(function (name) { return '  "' + name + '": ' + JSON.stringify(value(w, name)); }).join(",\n") + "\n}\n";
    download(weightsFile(), text, "application/json");
  }

  /* ---- Weights of one's own: set them, see everything recomputed, train on from them ---------
   * Only on a live page (data.rows.live: every row training saw is in the page). */
  const trainButton = document.getElementById("train");
  const status = document.getElementById("live-status");
  let training = null;  /* the timer of Train from here */
  const YOURS = "(your weights: Back to the run returns to its own)";

  function freshOptimizer() { return new M.Optimizer(data.plan, names.length, names.map(function (name) { return !!frozen[name]; })); }
  /* The optimizer's state at the start of kept epoch i as training had it (momentum's v, adam's m,
   * s and t): epochs 1 .. k-1 replayed with network.js from the run's first weights on its rows,
   * in its orders, as `fwdback explain --epoch k` replays them. null where the page cannot: not a
   * live page, the first kept epoch not 1, shuffles past the orders it carries, or more than
   * REPLAY row-epochs to replay. The last replay is kept and continued when moving on. */
  const REPLAY = 2e6;
  let replayed = null;  /* {epoch, vector, optimizer}: the state at the start of epoch `epoch` */
  function runState(i) {
    const epoch = data.epochs.epochs[i];
    if (!live || data.epochs.epochs[0] !== 1 || (epoch - 1) * X.length > REPLAY) { return null; }
    if (replayed === null || replayed.epoch > epoch) {
      replayed = { epoch: 1, vector: data.epochs.weights[0].slice(), optimizer: freshOptimizer() };
    }
    while (replayed.epoch < epoch) {
      const order = orderOf(replayed.epoch);
      if (order === undefined) { return null; }
      replayed.vector = M.epoch(shape, replayed.vector, X, Y, data.plan, replayed.optimizer, order).vector;
      replayed.epoch += 1;
    }
    const copy = freshOptimizer();
    copy.t = replayed.optimizer.t;
    copy.v = replayed.optimizer.v.slice();
    copy.m = replayed.optimizer.m.slice();
    copy.s = replayed.optimizer.s.slice();
    return copy;
  }
  /* The next update from weights w with gradients g by the run's rule: at a kept epoch of the run
   * from its optimizer's state then (runState), at a person's weights from a fresh one (t = 1), as
   * `fwdback explain --init` starts. The weights after it, the state before (before: {t, v, m, s})
   * and after ({v} or {m, s, mhat, shat}), fresh: whether the state is a fresh one; null where the
   * run's state cannot be had. */
  function nextUpdate(w, g) {
    const optimizer = edited === null && data.rule.state.length ? runState(current) : freshOptimizer();
    if (optimizer === null) { return null; }
    const before = { t: optimizer.t + 1, v: optimizer.v.slice(), m: optimizer.m.slice(), s: optimizer.s.slice() };
    const done = optimizer.step(w, g);
    done.before = before;
    done.fresh = edited !== null;
    return done;
  }
  /* Parameter i's update as explain writes it, each number in a span whose data-q names it
   * ("v_w1", "m_w1", "s_w1", "w1 after") and data-value holds it in full. */
  function updateRule(i, w, g, done) {
    const name = names[i], plan = data.plan, n = sym(name);
    const q = function (what, v) { return '<span data-q="' + what + '" data-value="' + v + '">' + g6(v) + "</span>"; };
    const after = q(name + " after", done.vector[i]);
    if (data.rule.lecture) {
      return n + " ← " + n + " − η " + d("L", n) + " = " + g6(w[i]) + " − " + g6(plan.lr) + "·" + factor(g[i]) + " = " + after;
    }
    if (data.rule.state.indexOf("v") >= 0) {
      const v = "v<sub>" + name + "</sub>";
      const velocity = v + " ← μ·" + v + " − η " + d("L", n) + " = " + g6(plan.momentum) + "·" + factor(done.before.v[i]) + " − " +
        g6(plan.lr) + "·" + factor(g[i]) + " = " + q("v_" + name, done.v[i]);
      const move = !data.rule.look_ahead
        ? n + " ← " + n + " + " + v + " = " + factor(w[i]) + " + " + factor(done.v[i])
        : n + " ← " + n + " + μ·" + v + " − η " + d("L", n) + " = " + factor(w[i]) + " + " + g6(plan.momentum) + "·" + factor(done.v[i]) +
          " − " + g6(plan.lr) + "·" + factor(g[i]);
      return velocity + "; " + move + " = " + after;
    }
    const m = "m<sub>" + name + "</sub>", s2 = "s<sub>" + name + "</sub>", t = done.before.t;
    return m + " ← β₁·" + m + " + (1 − β₁)·" + d("L", n) + " = " + g6(plan.beta1) + "·" + factor(done.before.m[i]) + " + " +
      g6(1 - plan.beta1) + "·" + factor(g[i]) + " = " + q("m_" + name, done.m[i]) + "; " +
      s2 + " ← β₂·" + s2 + " + (1 − β₂)·(" + d("L", n) + ")² = " + g6(plan.beta2) + "·" + factor(done.before.s[i]) + " + " +
      g6(1 - plan.beta2) + "·" + factor(g[i]) + "² = " + q("s_" + name, done.s[i]) + "; " +
      n + " ← " + n + " − η m̂/(√ŝ + ε), m̂ = " + m + "/(1 − β₁<sup>" + t + "</sup>) = " + q("mhat_" + name, done.mhat[i]) +
      ", ŝ = " + s2 + "/(1 − β₂<sup>" + t + "</sup>) = " + q("shat_" + name, done.shat[i]) + ": " + factor(w[i]) + " − " + g6(plan.lr) +
      "·" + factor(done.mhat[i]) + "/(√" + g6(done.shat[i]) + " + " + g6(plan.epsilon) + ") = " + after;
  }
  /* Where the update's state comes from, said once above the rules. */
  function stateNote(done) {
    if (!data.rule.state.length) { return ""; }
    return done.fresh
      ? "The rule starts from a fresh state (t = 1, v, m, s = 0) at weights shown as a person's, as fwdback explain --init does."
      : "The rule's state as training had it at the start of this epoch: update t = " +
        '<span data-q="t" data-value="' + done.before.t + '">' + done.before.t + "</span> of the run.";
  }
  function stateMissing() {
    return data.plan.optimizer + " carries a state from the epochs before; the page does not replay " +
      count(data.epochs.epochs[current] - 1) + " epochs here: fwdback explain --epoch " + data.epochs.epochs[current] + " works it.";
  }
  function liveUpdateLine(name, c) {
    if (frozen[name]) { return sym(name) + " = " + g6(c.weight) + " is frozen: it keeps its value"; }
    if (!data.full_batch) {
      return sym(name) + " = " + g6(c.weight) + "; training takes batches of " + data.plan.batch_size + " rows, one update each: Train from here makes them";
    }
    const done = nextUpdate(weights(), gradients());
    return updateRule(at[name], weights(), gradients(), done) + (data.rule.state.length ? ". " + stateNote(done) : "");
  }

  /* Row 1's factors of the chain rule below the gradient: dL/da = dL/dyhat · out'(a) for an
   * output's parameter (with an output activation), dL/dz = (Σ_j dL/da_j · w_j) · act'(z) for a
   * hidden unit's. */
  function factors(name) {
    const p = place(name);
    const b = edited.at.back;
    if (p.output !== undefined) {
      const o = p.output;
      if (classes) {  /* a classifier's: the cancellation, dL/da = (yhat - y)/d(n) */
        const yhat = edited.at.fwd.Yhat[o][0], y = Y[o][0];
        return '<p class="formula" data-role="factors">row 1: ' + d("L", sym(outputSym(o), "1")) + " = (" + sym(net.outputs[o], "1") + " − " +
          sym(net.outputs.length > 1 ? "y" + (o + 1) : "y", "1") + ")/" + data.loss_divisor + " = (" + factor(yhat) + " − " + factor(y) + ")/" +
          g6(M.divisor(data.plan.loss, X.length)) + " = " + g6(b.dL_dA[o][0]) + " (the loss's derivative times the " + net.output_activation +
          "'s cancel to this)</p>";
      }
      if (b.dYhat_dA === null) { return ""; }
      return '<p class="formula" data-role="factors">row 1: ' + d("L", sym(outputSym(o), "1")) + " = " + d("L", sym(net.outputs[o], "1")) + " · " +
        net.output_activation + "′(" + sym(outputSym(o), "1") + ") = " + factor(b.dL_dYhat[o][0]) + "·" + factor(b.dYhat_dA[o][0]) +
        " = " + g6(b.dL_dA[o][0]) + "</p>";
    }
    const h = p.unit;
    const sums = net.W_out.map(function (unit, j) { return d("L", sym(outputSym(j), "1")) + "·" + sym(unit[h]); }).join(" + ");
    const numbers = net.W_out.map(function (unit, j) { return factor(b.dL_dA[j][0]) + "·" + factor(value(edited.vector, unit[h])); }).join(" + ");
    const z = !net.activated ? "N" + (h + 1) : "z" + (h + 1);
    const slope = b.dN_dZ === null ? "" : " · " + net.activation + "′(" + sym(z, "1") + ")";
    const slopeValue = b.dN_dZ === null ? "" : "·" + factor(b.dN_dZ[h][0]);
    return '<p class="formula" data-role="factors">row 1: ' + d("L", sym(z, "1")) + " = (" + sums + ")" + slope + " = (" + numbers + ")" +
      slopeValue + " = " + g6(b.dL_dZ[h][0]) + "</p>";
  }

  /* A number field at value v, in full and as wide as it (a narrow screen cuts nothing off), valid. */
  function showValue(field, v) {
    field.value = String(v);
    field.style.width = Math.max(8, field.value.length + 3) + "ch";
    markField(field, null);
  }
  /* A number field's typed value, or null where it is none (empty, "-", past float64's 1.8e308). */
  function typedNumber(field) {
    const v = Number(field.value);
    return field.validity.badInput || field.value.trim() === "" || !isFinite(v) ? null : v;
  }
  /* Mark a field invalid with `problem` (what to type, what the page computes with), or, null, valid again. */
  let notes = 0;
  function markField(field, problem) {
    let note = field.getAttribute("aria-describedby") ? document.getElementById(field.getAttribute("aria-describedby")) : null;
    if (problem === null) {
      field.removeAttribute("aria-invalid");
      if (note) { note.remove(); field.removeAttribute("aria-describedby"); }
      return;
    }
    if (!note) {
      note = document.createElement("span");
      note.className = "field-note";
      note.id = "field-note-" + (notes += 1);
      note.setAttribute("aria-live", "polite");
      field.after(note);
      field.setAttribute("aria-describedby", note.id);
    }
    field.setAttribute("aria-invalid", "true");
    note.textContent = problem;
  }

  /* Show weights `vector` as a person's: every pass recomputed from the page's rows. */
  function setWeights(vector) {
    edited = { vector: vector, at: passes(vector), from: edited === null ? current : edited.from,
               trained: edited === null ? 0 : edited.trained, losses: edited === null ? null : edited.losses };
    const epoch = "epoch " + count(data.epochs.epochs[edited.from]) + " of " + count(data.last_epoch);
    const rows = "your " + count(X.length) + " rows";
    const what = weightsSet ? (rowsChanged ? "your weights and " + rows + ", set at " + epoch : "your weights, set at " + epoch)
                            : "the run's weights at " + epoch + (rowsChanged ? ", on " + rows : "");
    label.textContent = what + (edited.trained ? ", trained " + count(edited.trained) + " epochs in the page" : "") + ", loss " + g6(edited.at.loss);
    slider.setAttribute("aria-valuetext", label.textContent);
    status.textContent = training !== null ? "" : YOURS;
    drawNetwork();
    drawTable();
    drawRows();
    drawDetail(pinned || focused);
    drawCommand();
    drawTrained();
    document.dispatchEvent(new CustomEvent("fwdback:shown"));
  }
  /* A person sets parameter `name` to v (typed, dragged or stepped): training starts over from here. */
  function set(name, v) {
    pause();
    const vector = weights().slice();
    vector[at[name]] = v;
    if (edited !== null) { edited.trained = 0; edited.losses = null; }
    weightsSet = true;
    setWeights(vector);
  }
  function nudge(name, direction, far) { set(name, value(weights(), name) + direction * (far ? 0.1 : 0.01)); }
  /* Back to the run's own weights at the slider's epoch, and to its rows: its numbers are of
   * its weights on its rows (a note says the edited rows are gone). */
  function leave() {
    pause();
    if (edited === null) { return; }
    edited = null;
    weightsSet = false;
    status.textContent = "";
    if (rowsChanged) {
      restoreRows();
      status.textContent = "(the run's " + count(X.length) + " rows are back with its weights: Save the rows before moving keeps yours)";
    }
    drawTrained();
    drawCommand();
  }

  /* Epoch e's order of the rows for the run's batches (e = 1, 2, ... from where training starts,
   * as `train --init` counts them): the file's, or the run's shuffles the page carries; undefined
   * past those. null for full batches. */
  function orderOf(e) {
    if (data.full_batch) { return null; }
    if (!data.plan.shuffle) { return X.map(function (x, i) { return i; }); }
    return data.orders && e <= data.orders.length ? data.orders[e - 1] : undefined;
  }
  /* Train from here: the run's settings, from the weights shown, a fresh optimizer state as
   * `train --init` starts with; epoch after epoch until paused. */
  function train() {
    if (training !== null) { pause(); return; }
    stop();
    setWeights(weights().slice());
    edited.trained = 0;
    const optimizer = new M.Optimizer(data.plan, names.length, names.map(function (name) { return !!frozen[name]; }));
    trainButton.textContent = "❚❚ Pause training";
    trainButton.setAttribute("aria-pressed", "true");
    edited.losses = [edited.at.loss];
    training = setInterval(function () {
      const order = orderOf(edited.trained + 1);
      if (order === undefined) {
        pause();
        status.textContent = "The page carries the run's shuffled orders of the rows for " + count(data.orders ? data.orders.length : 0) +
          " epochs; fwdback train goes on past them.";
        return;
      }
      const done = M.epoch(shape, edited.vector, X, Y, data.plan, optimizer, order);
      edited.trained += 1;
      setWeights(done.vector);
      edited.losses.push(edited.at.loss);
      drawTrained();
    }, 40);
  }
  function pause() {
    if (training === null) { return; }
    clearInterval(training);
    training = null;
    trainButton.textContent = "▶ Train from here";
    trainButton.setAttribute("aria-pressed", "false");
    status.textContent = YOURS;
  }

  /* The command lines that give the page's numbers: explain at these weights, train from them, on
   * the files the page saves; the run's settings are spelled in data.commands (reports.train). */
  function drawCommand() {
    if (!live) { document.getElementById("weights-file").textContent = weightsFile(); return; }
    const files = "rows.csv --init " + weightsFile();
    /* a stateful rule's update at a kept epoch k > 1 is explain's from the run's first weights, k - 1 epochs on */
    const replays = edited === null && step === null && data.rule.state.length > 0 && data.epochs.epochs[current] > 1;
    const explain = replays ? "rows.csv --init weights-epoch-" + data.epochs.epochs[0] + ".json --epoch " + data.epochs.epochs[current] : files;
    const epochs = edited !== null && edited.trained ? "--epochs " + edited.trained : "";
    document.getElementById("command-explain").textContent = ["fwdback explain", explain, data.commands.explain].filter(Boolean).join(" ");
    document.getElementById("command-train").textContent = ["fwdback train", files, epochs, data.commands.train].filter(Boolean).join(" ");
  }
  /* The rows training saw (in z-scores where it standardised them), as a CSV that fwdback reads
   * back to the same float64s: JavaScript writes each number in its shortest exact form. */
  function saveRows() {
    const quoted = function (text) { return /[",\n\r]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text; };
    const header = net.features.concat(classes ? [classes.column] : net.targets).map(quoted);
    const lines = [header.join(",")].concat(X.map(function (x, r) {
      return x.map(String).concat(classes ? [quoted(String(classes.labels[classOf(r)]))] : targets(r).map(String)).join(",");
    }));
    download("rows.csv", lines.join("\n") + "\n", "text/csv");
  }

  slider.addEventListener("input", function () { stop(); show(parseInt(slider.value, 10)); });
  if (stepSlider) {
    stepSlider.addEventListener("input", function () { stop(); showStep(parseInt(stepSlider.value, 10)); });
    document.getElementById("step-back").addEventListener("click", function () { stop(); showStep(parseInt(stepSlider.value, 10) - 1); });
    document.getElementById("step-forward").addEventListener("click", function () { stop(); showStep(parseInt(stepSlider.value, 10) + 1); });
  }
  document.getElementById("save-weights").addEventListener("click", saveWeights);
  let focused = null;  /* the parameter whose edge or row has the focus */
  if (live) {
    trainButton.addEventListener("click", train);
    document.getElementById("reset").addEventListener("click", function () { show(current); });
    document.getElementById("save-rows").addEventListener("click", saveRows);
    document.querySelectorAll("#parameters input[data-set]").forEach(function (field) {
      const name = field.getAttribute("data-set");
      field.addEventListener("input", function () {
        const v = typedNumber(field);
        if (v !== null) { markField(field, null); set(name, v); return; }
        markField(field, "Type a number, as 0.25, -1.5 or 2e-3 (at most ±1.8e308); the page computes with " + name + " = " +
          g6(value(weights(), name)) + ", its last valid value.");
      });
      /* ↑ ↓ step the field as they step its edge: 0.01, Page Up and Down 0.1 (not the browser's 1). */
      field.addEventListener("keydown", function (event) {
        const keys = { ArrowUp: 1, ArrowDown: -1, PageUp: 1, PageDown: -1 };
        if (!(event.key in keys)) { return; }
        event.preventDefault();
        nudge(name, keys[event.key], event.key.indexOf("Page") === 0);
        showValue(field, value(weights(), name));
      });
      field.addEventListener("click", function (event) { event.stopPropagation(); });
      field.addEventListener("focus", function () { focused = name; if (!pinned) { drawDetail(name); } });
    });
    /* Dragging an edge or a bias up or down moves its value, 0.01 a pixel. */
    document.querySelectorAll("svg.network [data-param][tabindex]").forEach(function (edge) {
      const name = edge.getAttribute("data-param");
      edge.style.touchAction = "none";  /* a finger on an edge drags it rather than scrolling the page */
      edge.addEventListener("pointerdown", function (event) {
        const start = { y: event.clientY, v: value(weights(), name), moved: false };
        edge.setPointerCapture(event.pointerId);
        const move = function (e) {
          const dy = start.y - e.clientY;
          if (Math.abs(dy) > 2) { start.moved = true; }
          if (start.moved) { set(name, start.v + 0.01 * dy); }
        };
        const end = function () {
          edge.removeEventListener("pointermove", move);
          edge.removeEventListener("pointerup", end);
          if (start.moved) { edge.addEventListener("click", function (e) { e.stopImmediatePropagation(); }, { capture: true, once: true }); }
        };
        edge.addEventListener("pointermove", move);
        edge.addEventListener("pointerup", end);
      });
    });
  }
  playButton.addEventListener("click", play);
  document.getElementById("first").addEventListener("click", function () { stop(); show(0); });
  document.getElementById("back").addEventListener("click", function () { stop(); show(current - 1); });
  document.getElementById("forward").addEventListener("click", function () { stop(); show(current + 1); });
  document.getElementById("last").addEventListener("click", function () { stop(); show(data.epochs.epochs.length - 1); });
  document.addEventListener("keydown", function (event) {
    const target = event.target;
    if (event.key === " " && target.tagName !== "BUTTON" && target.tagName !== "INPUT") {
      event.preventDefault();
      play();
    } else if ((event.key === "ArrowLeft" || event.key === "ArrowRight") && target !== slider && target !== stepSlider && target.tagName !== "INPUT") {
      event.preventDefault();
      stop();
      show(current + (event.key === "ArrowRight" ? 1 : -1));
    } else if (live && target.closest && target.closest("svg.network") && target.hasAttribute("data-param") &&
               ["ArrowUp", "ArrowDown", "PageUp", "PageDown"].indexOf(event.key) >= 0) {
      event.preventDefault();
      nudge(target.getAttribute("data-param"), event.key === "ArrowUp" || event.key === "PageUp" ? 1 : -1, event.key.indexOf("Page") === 0);
    } else if (event.key === "Enter" && target.hasAttribute && target.hasAttribute("data-param")) {
      pin(target.getAttribute("data-param"));
    }
  });

  function pin(name) {
    pinned = pinned === name ? null : name;
    document.querySelectorAll("[data-param]").forEach(function (element) {
      element.classList.toggle("chosen", element.getAttribute("data-param") === pinned);
    });
    drawDetail(pinned || name);
    /* On a narrow screen the panel is under the figure: a tapped edge's chain rule that opens
     * below the screen's bottom is scrolled up to (one above it, a table row's, is not). */
    const panel = document.getElementById("detail").getBoundingClientRect();
    if (pinned && panel.top > 0 && panel.bottom > window.innerHeight) {
      document.getElementById("detail").scrollIntoView({ block: "nearest" });
    }
  }
  document.querySelectorAll("svg.network [data-param], #parameters tr[data-param]").forEach(function (element) {
    const name = element.getAttribute("data-param");
    element.addEventListener("mouseenter", function () { if (!pinned) { drawDetail(name); } });
    element.addEventListener("focus", function () { focused = name; if (!pinned) { drawDetail(name); } });
    element.addEventListener("blur", function () { focused = null; });
    element.addEventListener("mouseleave", function () { if (!pinned) { drawDetail(null); } });
    element.addEventListener("click", function () { pin(name); });
  });

  /* What the page's other pieces (stepper.js, rowgraph.js, dataplot.js) read and do: the weights
   * shown and their passes, set with a "fwdback:shown" event on the document each time they change.
   * rowsEdited() after they change the rows X and data.rows.y in place recomputes everything on
   * them, as a person's weights; a kept epoch shown puts the run's rows back in X and data.rows.y
   * (a "fwdback:rows" event first). */
  const runRows = { X: X.map(function (x) { return x.slice(); }),
                    y: data.rows ? data.rows.y.map(function (y) { return Array.isArray(y) ? y.slice() : y; }) : null,
                    numbers: data.rows ? data.rows.numbers : null, orders: data.orders, training_rows: data.training_rows };
  function refill() {
    Y.forEach(function (column, j) { column.length = 0; X.forEach(function (x, r) { column.push(targets(r)[j]); }); });
    data.training_rows = X.length;
  }
  function restoreRows() {
    X.splice.apply(X, [0, X.length].concat(runRows.X.map(function (x) { return x.slice(); })));
    data.rows.y.splice.apply(data.rows.y, [0, data.rows.y.length].concat(runRows.y.map(function (y) { return Array.isArray(y) ? y.slice() : y; })));
    refill();
    data.rows.numbers = runRows.numbers;
    data.orders = runRows.orders;
    data.training_rows = runRows.training_rows;
    rowsChanged = false;
    document.dispatchEvent(new CustomEvent("fwdback:rows"));
  }
  window.fwdbackPage = {
    data: data, net: net, shape: shape, X: X, Y: Y, live: live, names: names, frozen: frozen, g6: g6, sym: sym, classOf: classOf,
    weights: weights,
    passes: function () { return edited !== null ? edited.at : passes(weights()); },
    typedNumber: typedNumber, markField: markField, showValue: showValue,
    loss: function () { return edited !== null ? edited.at.loss : data.epochs.losses[current]; },
    nextUpdate: nextUpdate, updateRule: updateRule, stateNote: stateNote, stateMissing: stateMissing,
    rowsEdited: function () {
      pause();
      rowsChanged = true;
      if (edited !== null) { edited.trained = 0; edited.losses = null; }
      refill();
      data.rows.numbers = X.map(function (x, r) { return r + 1; });
      if (data.orders) { data.orders = []; }  /* the run's shuffles were of its own rows */
      setWeights(weights().slice());
    }
  };
  show(0);
})();
