/* The lecture's network in the page: fwdback/network.py and optimizers.py again, in JavaScript,
 * so that the page recomputes the forward pass, the loss, the chain rule and the updates from
 * any weights a person sets. The same equations in the same order:
 *
 *   z_h    = w_h . x + b_h           N_h = act(z_h)           (z1 = w1*x1 + w2*x2 + w3*x3 + b1)
 *   a_j    = w_j . N + b_j           yhat_j = out(a_j)        (a1 = w7*N1 + w8*N2 + b3)
 *   L      = (sum_i sum_j (y_ij - yhat_ij)^2) / d(n)         (d(n) = n for the lecture's MSE)
 *   a classifier: yhat = sigmoid(a), L = (1/n) sum_i log(1 + exp(a_i)) - y_i a_i            (bce)
 *                 yhat = softmax(a) over the outputs, L = (1/n) sum_i log(sum_j exp(a_ij)) - sum_j y_ij a_ij
 *                 (cross-entropy), both from the logits a so that no log(0) is taken
 *   backward, output layer first: dL/dyhat, dL/da, dL/dN, dL/dz, then each gradient's sum over rows;
 *   a classifier's dL/da = (yhat - y)/n at once (the link's derivative cancels the loss's)
 *   update: gd, momentum, nesterov, adam; a frozen parameter keeps its value.
 *
 * A network `net` is its shape: {k, H, m, activation, output_activation, bias}; a classifier's
 * output_activation is its loss's link (sigmoid for bce, softmax over m >= 2 outputs for cross-entropy). Its parameters are
 * one vector in the lecture's order (the hidden weights unit by unit, the output weights output by
 * output, the hidden biases, the output biases). Rows are X, n arrays of k, and Y, m arrays of n
 * (the targets laid out as the outputs, network.as_rows). Every hidden and output quantity is
 * one array a unit, of one value a row: Z[0] is z1 over the rows, as the lecture writes it.
 */
const fwdbackNetwork = (function () {
  "use strict";

  function sigmoid(z) { return 0.5 * (1 + Math.tanh(0.5 * z)); }  /* = 1 / (1 + exp(-z)), without overflow */
  /* name -> [act(z), dN/dz from z and N = act(z)]; identity's derivative is never formed. */
  const ACTIVATIONS = {
    identity: [null, null],
    tanh: [Math.tanh, function (z, n) { return 1 - n * n; }],
    relu: [function (z) { return Math.max(z, 0); }, function (z) { return z > 0 ? 1 : 0; }],
    sigmoid: [sigmoid, function (z, n) { return n * (1 - n); }]
  };
  /* softmax across the outputs (A: m arrays of n), row by row: exp(a_j - max_l a_l) <= 1, no overflow. */
  function softmax(A) {
    const n = A[0].length;
    const out = A.map(function () { return new Array(n); });
    for (let i = 0; i < n; i++) {
      let top = -Infinity;
      A.forEach(function (a) { top = Math.max(top, a[i]); });
      let total = 0;
      A.forEach(function (a, j) { out[j][i] = Math.exp(a[i] - top); total += out[j][i]; });
      out.forEach(function (yhat) { yhat[i] /= total; });
    }
    return out;
  }
  /* The outputs whose value depends on every output's a, not on its own alone: name -> yhat of A. */
  const ACROSS_OUTPUTS = { softmax: softmax };
  /* log(1 + exp(a)) without overflow, as numpy's logaddexp(0, a). */
  function softplus(a) { return a > 0 ? a + Math.log1p(Math.exp(-a)) : Math.log1p(Math.exp(a)); }
  /* Row i's term of a classifier's loss from its logits (A: m arrays of n) and targets Y. */
  function bceTerm(A, Y, i) { return softplus(A[0][i]) - Y[0][i] * A[0][i]; }
  function crossEntropyTerm(A, Y, i) {
    let top = -Infinity, total = 0, picked = 0;
    A.forEach(function (a) { top = Math.max(top, a[i]); });
    A.forEach(function (a) { total += Math.exp(a[i] - top); });
    A.forEach(function (a, j) { picked += Y[j][i] * a[i]; });
    return top + Math.log(total) - picked;
  }
  /* Each loss: d(n), L = (sum of the rows' terms) / d(n); a classifier's, the output it comes
   * with (its link) and its row's term from the logits. */
  const LOSSES = { mse: { divisor: function (n) { return n; } }, "half-mse": { divisor: function (n) { return 2 * n; } },
                   sse: { divisor: function () { return 1; } }, "half-sse": { divisor: function () { return 2; } },
                   bce: { divisor: function (n) { return n; }, link: "sigmoid", term: bceTerm },
                   "cross-entropy": { divisor: function (n) { return n; }, link: "softmax", term: crossEntropyTerm } };

  function size(net) { return net.H * (net.k + net.m) + (net.bias ? net.H + net.m : 0); }

  /* The vector as its layers: Wh (H arrays of k), Wo (m arrays of H), bh (H), bo (m); zeros without biases. */
  function layers(net, vector) {
    const k = net.k, H = net.H, m = net.m;
    const rows = function (from, count, width) {
      const out = [];
      for (let r = 0; r < count; r++) { out.push(vector.slice(from + r * width, from + (r + 1) * width)); }
      return out;
    };
    const zeros = function (count) { return new Array(count).fill(0); };
    const biases = (k + m) * H;
    return { Wh: rows(0, H, k), Wo: rows(k * H, m, H),
             bh: net.bias ? vector.slice(biases, biases + H) : zeros(H),
             bo: net.bias ? vector.slice(biases + H, biases + H + m) : zeros(m) };
  }

  /* Per-layer arrays back into the vector's order (Parameters.flat). */
  function flat(net, Wh, Wo, bh, bo) {
    const parts = [].concat.apply([], Wh).concat([].concat.apply([], Wo));
    return net.bias ? parts.concat(bh, bo) : parts;
  }

  /* W times V: out[r][i] = sum_c W[r][c] * V[c][i], summed in c's order, plus b[r]. */
  function affine(W, V, b) {
    const n = V[0].length;
    return W.map(function (w, r) {
      const out = new Array(n);
      for (let i = 0; i < n; i++) {
        let total = 0;
        for (let c = 0; c < w.length; c++) { total += w[c] * V[c][i]; }
        out[i] = total + b[r];
      }
      return out;
    });
  }
  function apply(f, M) { return M.map(function (row) { return row.map(f); }); }
  function apply2(f, M, P) { return M.map(function (row, r) { return row.map(function (v, i) { return f(v, P[r][i]); }); }); }
  function columns(X, k) {
    const XT = [];
    for (let c = 0; c < k; c++) { XT.push(X.map(function (x) { return x[c]; })); }
    return XT;
  }

  /* The forward pass over n rows: Z, N (H arrays of n), A, Yhat (m arrays of n). */
  function forward(net, vector, X) {
    const p = layers(net, vector);
    const Z = affine(p.Wh, columns(X, net.k), p.bh);
    const act = ACTIVATIONS[net.activation][0];
    const N = act === null ? Z : apply(act, Z);
    const A = affine(p.Wo, N, p.bo);
    if (net.output_activation in ACROSS_OUTPUTS) { return { Z: Z, N: N, A: A, Yhat: ACROSS_OUTPUTS[net.output_activation](A) }; }
    const out = ACTIVATIONS[net.output_activation][0];
    return { Z: Z, N: N, A: A, Yhat: out === null ? A : apply(out, A) };
  }

  function divisor(convention, n) { return LOSSES[convention].divisor(n); }
  /* The output a classifier's loss comes with ("sigmoid", "softmax"); "" for a squared error's. */
  function link(convention) { return LOSSES[convention].link || ""; }
  /* Whether output activation `name` makes each output from every output's a (softmax). */
  function acrossOutputs(name) { return name in ACROSS_OUTPUTS; }
  /* Row i's term of a classifier's loss, from the logits A (m arrays of n) and the targets Y. */
  function lossTerm(convention, A, Y, i) { return LOSSES[convention].term(A, Y, i); }

  /* L = (sum over rows, then outputs within a row, of (y - yhat)^2) / d(n), from the forward pass
   * `fwd`; a classifier's, the sum of its rows' terms from the logits fwd.A, over d(n). */
  function loss(Y, fwd, convention) {
    const n = Y[0].length, term = LOSSES[convention].term;
    let total = 0;
    for (let i = 0; i < n; i++) {
      if (term) { total += term(fwd.A, Y, i); continue; }
      for (let j = 0; j < Y.length; j++) { const e = Y[j][i] - fwd.Yhat[j][i]; total += e * e; }
    }
    return total / divisor(convention, n);
  }

  /* M times V transposed: out[r][c] = sum_i M[r][i] * V[c][i], the sum over the rows i. */
  function overRows(M, V) {
    return M.map(function (row) {
      return V.map(function (v) {
        let total = 0;
        for (let i = 0; i < row.length; i++) { total += row[i] * v[i]; }
        return total;
      });
    });
  }
  function sums(M) { return M.map(function (row) { let total = 0; row.forEach(function (v) { total += v; }); return total; }); }

  /* The chain rule, output layer first: each per-row term (m or H arrays of n) and the gradients
   * they sum to, as network.backward's BackwardPass (dYhat_dA, dN_dZ null for the identity; for a
   * classifier's loss dL_dYhat and dYhat_dA null, dL_dA = (1/d(n)) (yhat - y): the cancellation).
   * `rows`, given, is the number of rows the loss is over where X, Y are only the first of them
   * (a page that keeps a few rows shows their terms); else the n rows of Y. */
  function backward(net, vector, X, Y, fwd, convention, rows) {
    const p = layers(net, vector);
    const d = divisor(convention, rows === undefined ? Y[0].length : rows);
    let dL_dYhat = null, dYhat_dA = null, dL_dA;
    if (link(convention)) {
      if (net.output_activation !== link(convention)) {
        throw new Error("the " + convention + " loss needs a " + link(convention) + " output, not " + net.output_activation);
      }
      const f = 1 / d;
      dL_dA = apply2(function (yhat, y) { return f * (yhat - y); }, fwd.Yhat, Y);
    } else {
      const scale = -(2 / d);
      dL_dYhat = apply2(function (y, yhat) { return scale * (y - yhat); }, Y, fwd.Yhat);
      const outDerivative = ACTIVATIONS[net.output_activation][1];
      dYhat_dA = outDerivative === null ? null : apply2(outDerivative, fwd.A, fwd.Yhat);
      dL_dA = dYhat_dA === null ? dL_dYhat : apply2(function (a, b) { return a * b; }, dL_dYhat, dYhat_dA);
    }
    const dWo = overRows(dL_dA, fwd.N);
    const dbo = sums(dL_dA);
    const WoT = columns(p.Wo, net.H);
    const dL_dN = affine(WoT, dL_dA, new Array(net.H).fill(0));
    const derivative = ACTIVATIONS[net.activation][1];
    const dN_dZ = derivative === null ? null : apply2(derivative, fwd.Z, fwd.N);
    const dL_dZ = dN_dZ === null ? dL_dN : apply2(function (a, b) { return a * b; }, dL_dN, dN_dZ);
    const dWh = overRows(dL_dZ, columns(X, net.k));
    const dbh = sums(dL_dZ);
    return { dL_dYhat: dL_dYhat, dYhat_dA: dYhat_dA, dL_dA: dL_dA, dL_dN: dL_dN, dN_dZ: dN_dZ, dL_dZ: dL_dZ,
             gradients: flat(net, dWh, dWo, dbh, dbo) };
  }

  /* The loss and every gradient at `vector` over the rows X, Y: what an epoch starts from. */
  function lossAndGradients(net, vector, X, Y, convention) {
    const fwd = forward(net, vector, X);
    return { fwd: fwd, loss: loss(Y, fwd, convention), back: backward(net, vector, X, Y, fwd, convention) };
  }

  /* An update rule with its state (optimizers.Optimizer): settings {optimizer, lr, momentum, beta1,
   * beta2, epsilon}, frozen a boolean a parameter. step(vector, g) returns the new vector and
   * what the rule computed ({v} or {m, s, mhat, shat}), with t the update's number. */
  function Optimizer(settings, P, frozen) {
    this.settings = settings;
    this.t = 0;
    this.free = frozen && frozen.some(Boolean) ? frozen.map(function (f) { return f ? 0 : 1; }) : null;
    this.v = new Array(P).fill(0);
    this.m = new Array(P).fill(0);
    this.s = new Array(P).fill(0);
  }
  Optimizer.prototype.step = function (vector, gradients) {
    const s = this.settings, eta = s.lr, free = this.free;
    this.t += 1;
    const g = free === null ? gradients : gradients.map(function (v, i) { return v * free[i]; });
    if (s.optimizer === "gd") {
      return { vector: vector.map(function (w, i) { return w - eta * g[i]; }) };
    }
    if (s.optimizer === "momentum" || s.optimizer === "nesterov") {
      const mu = s.momentum;
      const v = this.v.map(function (v, i) { return mu * v - eta * g[i]; });
      this.v = v;
      const nesterov = s.optimizer === "nesterov";
      return { vector: vector.map(function (w, i) { return w + (nesterov ? mu * v[i] - eta * g[i] : v[i]); }), v: v.slice() };
    }
    const m = this.m.map(function (m, i) { return s.beta1 * m + (1 - s.beta1) * g[i]; });
    const second = this.s.map(function (v, i) { return s.beta2 * v + (1 - s.beta2) * g[i] * g[i]; });
    this.m = m;
    this.s = second;
    const b1 = 1 - Math.pow(s.beta1, this.t), b2 = 1 - Math.pow(s.beta2, this.t);
    const mhat = m.map(function (v) { return v / b1; });
    const shat = second.map(function (v) { return v / b2; });
    const step = mhat.map(function (v, i) { return eta * v / (Math.sqrt(shat[i]) + s.epsilon); });
    return { vector: vector.map(function (w, i) { return w - (free === null ? step[i] : step[i] * free[i]); }),
             m: m.slice(), s: second.slice(), mhat: mhat, shat: shat };
  };

  function pick(M, rows) { return M.map(function (row) { return rows.map(function (i) { return row[i]; }); }); }

  /* One epoch from `vector` (training.py's, by engines.FullBatch or MiniBatches.lecture_epoch):
   * the loss and gradients at its start (for mini-batches the convention over every row, each
   * at its batch's weights) and the weights after it. `order`: the rows' order for batches. */
  function epoch(net, vector, X, Y, plan, optimizer, order) {
    const n = X.length;
    if (plan.batch_size === null || plan.batch_size === undefined) {
      const at = lossAndGradients(net, vector, X, Y, plan.loss);
      return { vector: optimizer.step(vector, at.back.gradients).vector, loss: at.loss, gradients: at.back.gradients };
    }
    let lossSum = 0;
    const gradientSum = new Array(vector.length).fill(0);
    for (let first = 0; first < n; first += plan.batch_size) {
      const rows = order.slice(first, first + plan.batch_size);
      const at = lossAndGradients(net, vector, rows.map(function (i) { return X[i]; }), pick(Y, rows), plan.loss);
      const d = divisor(plan.loss, rows.length);
      lossSum += at.loss * d;
      at.back.gradients.forEach(function (v, i) { gradientSum[i] += v * d; });
      vector = optimizer.step(vector, at.back.gradients).vector;
    }
    const d = divisor(plan.loss, n);
    return { vector: vector, loss: lossSum / d, gradients: gradientSum.map(function (v) { return v / d; }) };
  }

  /* `epochs` epochs from `vector` with a fresh optimizer (as `fwdback train --init`): each epoch's
   * loss, starting weights and gradients, and the weights after the last. orderOf(e) gives epoch
   * e's order of the rows (1, 2, ...) for batches. */
  function train(net, vector, X, Y, plan, epochs, orderOf, frozen) {
    const optimizer = new Optimizer(plan, vector.length, frozen);
    const record = { losses: [], weights: [], gradients: [] };
    for (let e = 1; e <= epochs; e++) {
      const done = epoch(net, vector, X, Y, plan, optimizer, orderOf ? orderOf(e) : null);
      record.losses.push(done.loss);
      record.weights.push(vector);
      record.gradients.push(done.gradients);
      vector = done.vector;
    }
    record.final = vector;
    return record;
  }

  return { ACTIVATIONS: ACTIVATIONS, size: size, layers: layers, forward: forward, loss: loss, divisor: divisor, link: link,
           acrossOutputs: acrossOutputs, lossTerm: lossTerm,
           backward: backward, lossAndGradients: lossAndGradients, Optimizer: Optimizer, epoch: epoch, train: train };
})();
