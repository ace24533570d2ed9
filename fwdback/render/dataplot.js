/* The data, editable, with the network's function through it: for one input a curve yhat(x1)
 * over the points (x1, y); for two a field coloured by yhat(x1, x2) under the points, each
 * coloured by its y. Redrawn whenever the weights change (typed, dragged, trained). Points are
 * added (click an empty place, or Add a point), moved (dragged, the arrow keys on a focused
 * point, or the chosen point's fields) and removed (Delete on a focused point, or Remove); the
 * edited rows are the page's rows from then on: page.js recomputes the passes, the loss, the
 * chain rule, the steps and the row graph on them, trains on them and saves them. A live page
 * of a network with one or two inputs and one output only; a kept epoch shown (Back to the run, the
 * epoch slider) puts the run's rows back. A classifier's rows are its classes: for two inputs each
 * point in its class's colour over a field in the likelier class's colour (stronger where the
 * network is surer), for one input (bce) the curve of P(the second class) over the points at 0
 * and 1; a row's class is chosen from the run's labels, and a point added takes the chosen row's. */
(function () {
  "use strict";
  const page = window.fwdbackPage;
  if (!page || !page.live) { return; }
  const classifier = fwdbackNetwork.link(page.data.plan.loss) !== "";
  const perClass = fwdbackNetwork.acrossOutputs(page.shape.output_activation);  /* one output per class (softmax) */
  if (page.shape.k > 2 || (page.shape.m !== 1 && !(perClass && page.shape.k === 2))) { return; }
  const SVG = "http://www.w3.org/2000/svg";
  const WIDTH = 540, HEIGHT = 340, LEFT = 66, RIGHT = 12, TOP = 28, BOTTOM = 36, FIELD = 48;
  const k = page.shape.k, X = page.X, rows = page.data.rows, g6 = page.g6;
  const POSITIVE = getComputedStyle(document.documentElement).getPropertyValue("--positive").trim() || "#2166ac";
  const NEGATIVE = getComputedStyle(document.documentElement).getPropertyValue("--negative").trim() || "#b35806";
  /* A classifier's classes: their labels (sorted, as the run found them) and colours: for two inputs
   * the decision surface's (render/surface.py), for one the figure's negative and positive. */
  const labels = !classifier ? [] : page.data.classes ? page.data.classes.labels
    : Array.from({ length: perClass ? page.shape.m : 2 }, function (v, c) { return c; });
  const surface = document.querySelector("svg.surface");
  /* the surface's key's colours as the scheme paints them (its style's), so that points and field read as the surface's */
  const colours = surface ? Array.prototype.map.call(surface.querySelectorAll("g.key rect"), function (key) { return getComputedStyle(key).fill; })
    : [NEGATIVE, POSITIVE];
  function classColour(c) { return colours[c % colours.length]; }
  /* A sure cell's opacity: a classifier's field lightened as the decision surface's (its points stand out on it), else 0.6. */
  const mostOpacity = classifier && surface ? Number(surface.querySelector("g.field").getAttribute("opacity")) : 0.6;

  const axes = k === 1 ? ["x1", "y"] : ["x1", "x2"];
  /* Each coordinate by its column's name in the data, as the network's figure names its inputs and output. */
  const column = { x1: page.net.features[0], x2: page.net.features[1], y: page.data.classes ? page.data.classes.column : page.net.targets[0] };
  function escaped(text) { return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/"/g, "&quot;"); }
  const named = {};
  Object.keys(column).forEach(function (key) { named[key] = escaped(column[key]); });
  const section = document.createElement("section");
  section.id = "data-plot";
  section.innerHTML = "<h2>The data, and the network's function through it</h2><p class=\"caption\">" +
    (classifier ? (k === 1 ? "The points are the rows (" + named.x1 + ", " + named.y + " as 0 or 1); the curve is ŷ(" + named.x1 +
                            ") = P(" + escaped(labels[1]) + ") at the weights shown. "
                           : "The points are the rows at (" + named.x1 + ", " + named.x2 + "), coloured by their class (" + named.y +
                             "); the field under them is the class the network finds likelier at the weights shown, stronger where it is surer. ") :
     k === 1 ? "The points are the rows (" + named.x1 + ", " + named.y + "); the curve is ŷ(" + named.x1 + ") at the weights shown. "
             : "The points are the rows at (" + named.x1 + ", " + named.x2 + "), coloured by " + named.y + "; the field under them is ŷ(" +
               named.x1 + ", " + named.x2 + ") at the weights shown, on the same colours. ") +
    "Click an empty place to add a row there, drag a point to move it; or Tab to a point and move it with the arrow keys " +
    "(Shift: ten times as far), Delete removes it. Training, the equations and the saved rows use the rows as edited.</p>" +
    '<p class="caption" data-role="units">The plot and its fields: ' + escaped(page.data.units) + "</p>" +
    '<div class="controls" role="group" aria-label="The chosen row">' +
    '<button id="add-point" type="button">Add a point</button><button id="remove-point" type="button">Remove the chosen point</button>' +
    ["x1"].concat(k === 2 ? ["x2"] : [], ["y"]).map(function (name) {
      if (classifier && name === "y") {
        return '<label>' + named.y + ' <select data-coordinate="y" aria-label="' + named.y + ' of the chosen row">' +
          labels.map(function (label, c) { return '<option value="' + c + '">' + escaped(label) + "</option>"; }).join("") + "</select></label>";
      }
      return '<label>' + named[name] + ' <input type="number" step="any" data-coordinate="' + name + '" aria-label="' + named[name] +
        ' of the chosen row"></label>';
    }).join("") + '<output id="point-chosen" aria-live="polite"></output></div><figure class="scroll" id="data-figure"></figure>';
  document.getElementById("weights").after(section);  /* after the parameters, ahead of the rows table */
  const figure = section.querySelector("#data-figure");
  /* One figure for the section's life, its contents redrawn: a point dragged keeps the pointer. */
  const svg = element("svg", { class: "data-plot", viewBox: "0 0 " + WIDTH + " " + HEIGHT, width: WIDTH, height: HEIGHT, role: "group",
                               "aria-label": k === 1 ? "The rows and the curve yhat(" + column.x1 + ")"
                                                     : "The rows and the field yhat(" + column.x1 + ", " + column.x2 + ")" });
  figure.appendChild(svg);
  const chosenLabel = section.querySelector("#point-chosen");
  let chosen = 0;

  function y(r) { return classifier ? page.classOf(r) : rows.y[r]; }
  function coordinate(r, name) { return name === "y" ? y(r) : X[r][name === "x1" ? 0 : 1]; }
  /* A classifier's row takes the class nearest v, as the network's targets: 0/1 for bce, one-hot for cross-entropy. */
  function targetsOf(v) {
    const c = Math.max(0, Math.min(labels.length - 1, Math.round(v)));
    return perClass ? labels.map(function (label, j) { return j === c ? 1 : 0; }) : c;
  }
  function setCoordinate(r, name, v) {
    if (name === "y") { rows.y[r] = classifier ? targetsOf(v) : v; } else { X[r][name === "x1" ? 0 : 1] = v; }
  }

  /* The plot's ranges, fixed from the rows at the start (10% beyond them) so that the axes stay put as points move. */
  function range(values) {
    const low = Math.min.apply(null, values), high = Math.max.apply(null, values);
    const margin = high > low ? 0.1 * (high - low) : 1;
    return [low - margin, high + margin];
  }
  const across = range(X.map(function (x) { return x[0]; }));
  const up = range(k === 1 ? X.map(function (x, r) { return y(r); }) : X.map(function (x) { return x[1]; }));
  const values = classifier ? null : range(rows.y);  /* y's colours for two inputs */
  function px(v) { return LEFT + (v - across[0]) / (across[1] - across[0]) * (WIDTH - LEFT - RIGHT); }
  function py(v) { return HEIGHT - BOTTOM - (v - up[0]) / (up[1] - up[0]) * (HEIGHT - TOP - BOTTOM); }
  function fromPx(x) { return across[0] + (x - LEFT) / (WIDTH - LEFT - RIGHT) * (across[1] - across[0]); }
  function fromPy(y) { return up[0] + (HEIGHT - BOTTOM - y) / (HEIGHT - TOP - BOTTOM) * (up[1] - up[0]); }
  function tint(v) {
    const t = Math.max(-1, Math.min(1, (2 * v - values[0] - values[1]) / (values[1] - values[0])));
    return { colour: t >= 0 ? POSITIVE : NEGATIVE, opacity: Math.abs(t) };
  }
  function element(name, attributes, parent) {
    const made = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) { made.setAttribute(key, attributes[key]); });
    if (parent) { parent.appendChild(made); }
    return made;
  }
  function yhat(points) { return fwdbackNetwork.forward(page.shape, page.weights(), points).Yhat[0]; }
  /* The likelier class at each point and how sure: (P(lead) - 1/C) / (1 - 1/C), 0 at a tie, 1 when certain. */
  function lead(points) {
    const Yhat = fwdbackNetwork.forward(page.shape, page.weights(), points).Yhat;
    const P = perClass ? Yhat : [Yhat[0].map(function (p) { return 1 - p; }), Yhat[0]];
    return points.map(function (point, i) {
      let c = 0;
      P.forEach(function (column, j) { if (column[i] > P[c][i]) { c = j; } });
      return { colour: classColour(c), opacity: (P[c][i] - 1 / P.length) / (1 - 1 / P.length) };
    });
  }

  /* The frame once; then the function's layer redrawn at every change of the weights, the points'
   * only when the rows change (a run of 10,000 rows trains without redrawing them each epoch). */
  element("rect", { x: LEFT, y: TOP, width: WIDTH - LEFT - RIGHT, height: HEIGHT - TOP - BOTTOM, class: "plane" }, svg);
  const functionLayer = element("g", { class: "function" }, svg);
  const ticks = element("g", { class: "ticks" }, svg);
  [0, 0.5, 1].forEach(function (t) {
    const a = across[0] + t * (across[1] - across[0]), b = up[0] + t * (up[1] - up[0]);
    element("text", { x: px(a), y: HEIGHT - BOTTOM + 14, "text-anchor": "middle" }, ticks).textContent = g6(Number(a.toPrecision(3)));
    element("text", { x: LEFT - 4, y: py(b) + 4, "text-anchor": "end" }, ticks).textContent = g6(Number(b.toPrecision(3)));
  });
  element("text", { x: (LEFT + WIDTH - RIGHT) / 2, y: HEIGHT - 4, "text-anchor": "middle", class: "axis-title" }, ticks).textContent = column[axes[0]];
  /* The vertical axis's title level above the plane, clear of the tick labels (the top one, its baseline at TOP + 4, rises to about TOP - 5). */
  element("text", { x: 4, y: TOP - 12, "text-anchor": "start", class: "axis-title" }, ticks).textContent = column[axes[1]] + " ↑";
  const pointsLayer = element("g", { class: "points" }, svg);
  svg.setAttribute("data-across", JSON.stringify(across));  /* the axes' ranges, for a reader of the figure */
  svg.setAttribute("data-up", JSON.stringify(up));
  let rowsChanged = true;

  function drawFunction() {
    functionLayer.innerHTML = "";
    if (k === 1) {
      const grid = [];
      for (let s = 0; s <= 200; s++) { grid.push([across[0] + s / 200 * (across[1] - across[0])]); }
      const curve = yhat(grid);
      /* the curve where it is inside the plot, broken where it leaves it (no clip path: the page refers to no resource) */
      let d = "", inside = false;
      grid.forEach(function (x, s) {
        const within = curve[s] >= up[0] && curve[s] <= up[1];
        if (within) { d += (inside ? " L" : " M") + px(x[0]).toFixed(1) + "," + py(curve[s]).toFixed(1); }
        inside = within;
      });
      element("path", { class: "curve", fill: "none", d: d.trim() }, functionLayer);
      return;
    }
    const cells = [];
    for (let b = 0; b < FIELD; b++) {
      for (let a = 0; a < FIELD; a++) {
        cells.push([across[0] + (a + 0.5) / FIELD * (across[1] - across[0]), up[0] + (b + 0.5) / FIELD * (up[1] - up[0])]);
      }
    }
    const field = classifier ? lead(cells) : yhat(cells);
    const w = (WIDTH - LEFT - RIGHT) / FIELD, h = (HEIGHT - TOP - BOTTOM) / FIELD;
    const layer = element("g", { class: "field", "shape-rendering": "crispEdges" }, functionLayer);
    cells.forEach(function (cell, c) {
      const t = classifier ? field[c] : tint(field[c]);
      element("rect", { x: (px(cell[0]) - w / 2).toFixed(2), y: (py(cell[1]) - h / 2).toFixed(2), width: w.toFixed(2),
                        height: h.toFixed(2), fill: t.colour, "fill-opacity": (mostOpacity * t.opacity).toFixed(2) }, layer);
    });
  }

  function drawPoints() {
    const focused = document.activeElement && document.activeElement.getAttribute && document.activeElement.getAttribute("data-row");
    pointsLayer.innerHTML = "";
    X.forEach(function (x, r) {
      const t = classifier ? { colour: classColour(y(r)), opacity: 1 } : k === 2 ? tint(y(r)) : null;
      const point = element("circle", { cx: px(x[0]).toFixed(1), cy: py(coordinate(r, axes[1])).toFixed(1), r: 5, tabindex: "0", role: "button",
                                        class: "point" + (r === chosen ? " chosen" : ""), "data-row": String(r + 1),
                                        "aria-label": "row " + (r + 1) + ": x1 = " + g6(x[0]) + (k === 2 ? ", x2 = " + g6(x[1]) : "") +
                                                (classifier ? ", class " + labels[y(r)] : ", y = " + g6(y(r))) },
                                pointsLayer);
      if (t) { point.style.fill = t.colour; point.style.fillOpacity = String(0.3 + 0.7 * t.opacity); }
    });
    if (focused) { const again = pointsLayer.querySelector('[data-row="' + focused + '"]'); if (again) { again.focus(); } }
    rowsChanged = false;
  }

  function draw() {
    drawFunction();
    if (rowsChanged) { drawPoints(); }
    showChosen();
  }

  function showChosen() {
    chosen = Math.min(chosen, X.length - 1);
    pointsLayer.querySelectorAll(".point").forEach(function (point, r) { point.classList.toggle("chosen", r === chosen); });
    const classField = section.querySelector("select[data-coordinate]");
    if (classField && X.length) { classField.value = String(y(chosen)); }
    section.querySelectorAll("input[data-coordinate]").forEach(function (field) {
      if (document.activeElement !== field) {
        if (X.length) { page.showValue(field, coordinate(chosen, field.getAttribute("data-coordinate"))); } else { field.value = ""; }
      }
    });
    chosenLabel.textContent = X.length ? "the chosen row: " + (chosen + 1) + " of " + X.length : "no rows";
  }

  /* The rows changed: page.js recomputes everything on them (and draw follows its event). */
  function edited() { rowsChanged = true; page.rowsEdited(); }
  function add(x1, second) {
    const x = k === 1 ? [x1] : [x1, second];
    X.push(x);
    rows.y.push(classifier ? targetsOf(k === 1 ? second : y(chosen)) : k === 1 ? second : yhat([x])[0]);
    chosen = X.length - 1;
    edited();
  }
  function remove(r) {
    if (X.length <= 1) { chosenLabel.textContent = "the last row stays: training needs one"; return; }
    X.splice(r, 1);
    rows.y.splice(r, 1);
    chosen = Math.min(r, X.length - 1);
    edited();
  }

  /* Where pointer event e is, in the plot's units. */
  function at(e) {
    const box = svg.getBoundingClientRect();
    const scale = WIDTH / box.width;
    return [fromPx((e.clientX - box.left) * scale), fromPy((e.clientY - box.top) * scale)];
  }
  /* A click (a tap, not the start of a scroll) on an empty place adds a row there. */
  function click(event) {
    if (event.target.hasAttribute("data-row")) { return; }
    const where = at(event);
    add(where[0], where[1]);
  }
  /* A press on a point drags it; a finger on a point drags it rather than scrolling the page. */
  function press(event) {
    const target = event.target;
    if (!target.hasAttribute("data-row")) { return; }
    const r = parseInt(target.getAttribute("data-row"), 10) - 1;
    chosen = r;
    event.preventDefault();
    svg.setPointerCapture(event.pointerId);
    const move = function (e) {
      const where = at(e);
      setCoordinate(r, "x1", where[0]);
      setCoordinate(r, axes[1], where[1]);
      edited();
    };
    const end = function () { svg.removeEventListener("pointermove", move); svg.removeEventListener("pointerup", end); };
    svg.addEventListener("pointermove", move);
    svg.addEventListener("pointerup", end);
    showChosen();
  }

  /* Arrow keys move a focused point 1% of the plot's width or height (Shift: 10%), within the plot; Delete removes it. */
  function key(event) {
    const target = event.target;
    if (!target.hasAttribute || !target.hasAttribute("data-row")) { return; }
    const r = parseInt(target.getAttribute("data-row"), 10) - 1;
    chosen = r;
    const far = event.shiftKey ? 0.1 : 0.01;
    const moves = { ArrowLeft: ["x1", -far * (across[1] - across[0])], ArrowRight: ["x1", far * (across[1] - across[0])],
                    ArrowDown: [axes[1], -far * (up[1] - up[0])], ArrowUp: [axes[1], far * (up[1] - up[0])] };
    if (moves[event.key]) {
      event.preventDefault();
      event.stopPropagation();
      const name = moves[event.key][0], bounds = name === "x1" ? across : up;  /* a point moved by keys stays in sight */
      if (classifier && name === "y") {  /* a class up or down */
        setCoordinate(r, name, coordinate(r, name) + Math.sign(moves[event.key][1]));
      } else {
        setCoordinate(r, name, Math.max(bounds[0], Math.min(bounds[1], coordinate(r, name) + moves[event.key][1])));
      }
      edited();
    } else if (event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      remove(r);
      const next = figure.querySelector('[data-row="' + (chosen + 1) + '"]');
      if (next) { next.focus(); }
    } else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      event.stopPropagation();
      showChosen();
    }
  }

  svg.addEventListener("pointerdown", press);
  svg.addEventListener("click", click);
  svg.addEventListener("keydown", key);
  section.querySelector("#add-point").addEventListener("click", function () {
    add((across[0] + across[1]) / 2, (up[0] + up[1]) / 2);
  });
  section.querySelector("#remove-point").addEventListener("click", function () { remove(chosen); });
  section.querySelectorAll("select[data-coordinate]").forEach(function (field) {
    field.addEventListener("change", function () { setCoordinate(chosen, "y", Number(field.value)); edited(); });
  });
  section.querySelectorAll("input[data-coordinate]").forEach(function (field) {
    field.addEventListener("input", function () {
      const name = field.getAttribute("data-coordinate");
      const v = page.typedNumber(field);
      if (v === null) {
        page.markField(field, "Type a number, as 0.25 or -1.5; the row keeps " + column[name] + " = " + g6(coordinate(chosen, name)) + ".");
        return;
      }
      page.markField(field, null);
      setCoordinate(chosen, name, v);
      edited();
    });
  });
  /* A kept epoch shown: page.js has put the run's rows back. */
  document.addEventListener("fwdback:rows", function () { rowsChanged = true; });
  document.addEventListener("fwdback:shown", draw);
  draw();
})();
