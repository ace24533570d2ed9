/* The decision surface of a classifier of two inputs, moving with the page: the field of the
 * classes' probabilities (svg.surface, drawn by render/surface.py at the first kept epoch) and each
 * hidden unit's own field in its node, recomputed by network.js's forward pass at the centres of
 * the same cells whenever the weights shown change (the epoch slider, an update, weights a
 * person sets or trains). The colours as render/surface.py paints them: a cell in its likeliest
 * class's colour (its class "k0", "k1", ..., which the scheme's style colours) at opacity
 * (P - 1/q) / (1 - 1/q); a unit's cell blue where N > 0, orange where N < 0, at opacity |N| over
 * the unit's largest |N| on the plane. On a live page the points follow the page's rows as a
 * person edits them (dataplot.js): at most MOST_POINTS of them, evenly spaced, as render/surface.py
 * draws them, those that lie on the plane. */
(function () {
  "use strict";
  const page = window.fwdbackPage;
  const figure = document.querySelector("svg.surface");
  if (!page || !figure) { return; }
  const M = fwdbackNetwork;
  const numbers = function (name) { return figure.getAttribute(name).split(" ").map(Number); };
  const low = numbers("data-low"), high = numbers("data-high");
  const colours = figure.getAttribute("data-colours").split(" ");
  const POSITIVE = figure.getAttribute("data-positive"), NEGATIVE = figure.getAttribute("data-negative");

  /* The centres of a c by c grid of the plane, row r (x2's r-th centre) after row, as surface.field lays them out. */
  function centres(c) {
    const X = [];
    for (let r = 0; r < c; r++) {
      for (let s = 0; s < c; s++) {
        X.push([low[0] + ((s + 0.5) / c) * (high[0] - low[0]), low[1] + ((r + 0.5) / c) * (high[1] - low[1])]);
      }
    }
    return X;
  }
  const cells = Array.prototype.slice.call(figure.querySelectorAll("g.field rect"));
  const fieldGrid = centres(Math.round(Math.sqrt(cells.length)));
  const units = Array.prototype.slice.call(document.querySelectorAll("svg.network g.unit-field")).map(function (group) {
    return { unit: Number(group.getAttribute("data-unit").slice(1)) - 1,
             cells: Array.prototype.slice.call(group.querySelectorAll("rect")) };
  });
  const unitGrid = units.length ? centres(Math.round(Math.sqrt(units[0].cells.length))) : null;

  const SVG = "http://www.w3.org/2000/svg", MOST_POINTS = 2000;
  const frame = figure.querySelector("rect.frame");
  const left = Number(frame.getAttribute("x")), top = Number(frame.getAttribute("y")), size = Number(frame.getAttribute("width"));
  const pointsGroup = figure.querySelector("g.points");
  const radius = pointsGroup.firstElementChild ? pointsGroup.firstElementChild.getAttribute("r") : "4";
  let drawnRows = null;  /* what the points show: the rows' coordinates and classes, as text */

  /* The rows as points, where they changed since they were drawn: each in its class's colour and ring (the key's). */
  function drawPoints() {
    const X = page.X;
    const rows = X.map(function (x, r) { return x[0] + " " + x[1] + " " + page.classOf(r); }).join(";");
    if (drawnRows === null) { drawnRows = rows; }  /* render/surface.py drew the run's rows */
    if (rows === drawnRows) { return; }
    drawnRows = rows;
    const count = Math.min(X.length, MOST_POINTS), chosen = [];
    for (let i = 0; i < count; i++) {
      const r = count === 1 ? 0 : Math.round(i * (X.length - 1) / (count - 1));
      if (chosen[chosen.length - 1] !== r) { chosen.push(r); }
    }
    pointsGroup.textContent = "";
    chosen.forEach(function (r) {
      const x = X[r], j = page.classOf(r);
      if (x[0] < low[0] || x[0] > high[0] || x[1] < low[1] || x[1] > high[1]) { return; }
      const key = figure.querySelector("g.key rect.k" + j);
      const point = document.createElementNS(SVG, "circle");
      point.setAttribute("class", "point k" + j);
      point.setAttribute("cx", (left + (x[0] - low[0]) / (high[0] - low[0]) * size).toFixed(2));
      point.setAttribute("cy", (top + (high[1] - x[1]) / (high[1] - low[1]) * size).toFixed(2));
      point.setAttribute("r", radius);
      point.setAttribute("fill", key.getAttribute("fill"));
      point.setAttribute("stroke", key.getAttribute("stroke"));
      point.setAttribute("data-class", String(j));
      pointsGroup.appendChild(point);
    });
  }

  /* Each class's probability at every point: [1 - yhat, yhat] for a sigmoid output, the softmax's outputs else. */
  function probabilities(Yhat) {
    return Yhat.length === 1 ? [Yhat[0].map(function (p) { return 1 - p; }), Yhat[0]] : Yhat;
  }
  /* A cell's colour and opacity, each set only where it changed: a style recomputed for every cell at every epoch would slow the slider. */
  function paint(rect, kind, colour, strength) {
    const opacity = Math.min(Math.max(strength, 0), 1).toFixed(4);
    if (rect.getAttribute("class") !== kind) { rect.setAttribute("class", kind); rect.setAttribute("fill", colour); }
    if (rect.getAttribute("fill-opacity") !== opacity) { rect.setAttribute("fill-opacity", opacity); }
  }
  function draw() {
    if (page.live && page.classOf) { drawPoints(); }
    const w = page.weights();
    const P = probabilities(M.forward(page.shape, w, fieldGrid).Yhat);
    const q = P.length;
    cells.forEach(function (rect, i) {
      let likeliest = 0;
      for (let j = 1; j < q; j++) { if (P[j][i] > P[likeliest][i]) { likeliest = j; } }
      paint(rect, "k" + likeliest, colours[likeliest], (P[likeliest][i] - 1 / q) / (1 - 1 / q));
    });
    if (!units.length) { return; }
    const N = M.forward(page.shape, w, unitGrid).N;
    units.forEach(function (unit) {
      const values = N[unit.unit];
      let largest = 0;
      values.forEach(function (v) { largest = Math.max(largest, Math.abs(v)); });
      unit.cells.forEach(function (rect, i) {
        const signed = largest > 0 ? values[i] / largest : 0;
        paint(rect, signed >= 0 ? "positive" : "negative", signed >= 0 ? POSITIVE : NEGATIVE, Math.abs(signed));
      });
    });
  }
  document.addEventListener("fwdback:shown", draw);
  draw();
})();
