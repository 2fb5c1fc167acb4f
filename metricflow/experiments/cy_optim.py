"""Optimisers of the Calabi–Yau metric networks (issue 15): Adam's learning-rate schedule
and the full-batch L-BFGS phase that may follow it (both optax).

* Adam's schedule, per minibatch step, over the ``epochs`` Adam epochs of ``nb`` steps:
  ``constant`` (lr), ``cosine`` (a linear warm-up from 0 over ``warmup`` epochs, then
  cosine decay to ``lr_final`` at the last step) or ``exponential`` (the same warm-up,
  then lr · (lr_final/lr)^(t/T) in steps of one epoch, reaching ``lr_final`` at the end);
  the same schedule drives plain SGD instead of Adam with ``optimizer="sgd"``.
* L-BFGS (:func:`optax.lbfgs`, memory 10, zoom line search) on the *full* loss of
  :mod:`metricflow.cy.losses` over the first ``n`` training points — σ (B.10, B.11) with
  one κ over all of them, not a mean of batch σ's — evaluated chunk by chunk
  (``jax.lax.map`` of a ``jax.checkpoint``-ed chunk, so that the memory of a gradient is
  one chunk's, whatever ``n``).
"""

from __future__ import annotations

import math

SCHEDULES = ("constant", "cosine", "exponential")
OPTIMIZERS = ("adam", "sgd")
#: the largest learning rate accepted: Adam's step is about lr per parameter whatever the
#: gradient, so lr > 1 is never meant; plain SGD's step is lr times the gradient, and in the
#: NTK parameterisation with out_scale = 0.1 the kernel carries out_scale^2 = 1e-2, so useful
#: rates reach O(10-100) (gradient-descent stability needs lr < 2/lambda_max of the loss Hessian)
MAX_LR = {"adam": 1.0, "sgd": 1000.0}
LBFGS_MEMORY = 10
#: L-BFGS iterations between two records (and checkpoints) of the training loop
LBFGS_PER_RECORD = 5


def learning_rate(schedule: str, lr: float, lr_final: float, warmup: int, epochs: int, nb: int):
    """Adam's learning rate: a float (``constant``) or an optax schedule of the step (module docstring)."""
    import optax

    if schedule == "constant":
        return lr
    total, ramp = epochs * nb, warmup * nb
    if schedule == "cosine":
        return optax.warmup_cosine_decay_schedule(0.0, lr, ramp, total, lr_final)
    decay_epochs = max(epochs - warmup, 1)
    rate = (lr_final / lr) ** (1.0 / decay_epochs)
    decay = optax.exponential_decay(lr, nb, rate, staircase=True)
    if ramp == 0:
        return decay
    return optax.join_schedules([optax.linear_schedule(0.0, lr, ramp), decay], [ramp])


def minibatch_optimizer(name: str, rate):
    """The optax optimiser of the minibatch epochs: Adam, or plain SGD (no momentum: the
    gradient-descent step of the NTK theory, eqs. 2.9–2.12) at the learning rate ``rate``."""
    import optax

    return optax.adam(rate) if name == "adam" else optax.sgd(rate)


def check_schedule(schedule, lr: float, lr_final, warmup, epochs: int) -> tuple[float, int]:
    """(lr_final, warmup) validated; InvalidInputError naming ``schedule``, ``lr_final`` or ``warmup``."""
    from metricflow.errors import InvalidInputError

    if schedule not in SCHEDULES:
        raise InvalidInputError("schedule", f"expected one of {', '.join(SCHEDULES)}, got {schedule!r}")
    if lr_final is None:
        lr_final = lr if schedule == "constant" else lr / 100
    if (isinstance(lr_final, bool) or not isinstance(lr_final, (int, float)) or not math.isfinite(lr_final)
            or not 0 < lr_final <= lr):
        raise InvalidInputError("lr_final", f"need a final learning rate in (0, lr = {lr:g}], got {lr_final!r}")
    if schedule == "constant" and lr_final != lr:
        raise InvalidInputError("lr_final", "a constant schedule has no final learning rate; use --schedule "
                                "cosine or exponential")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or not 0 <= warmup < max(epochs, 1):
        raise InvalidInputError("warmup", f"need whole warm-up epochs in [0, epochs = {epochs}), got {warmup!r}")
    if schedule == "constant" and warmup:
        raise InvalidInputError("warmup", "a constant schedule has no warm-up; use --schedule cosine or exponential")
    return float(lr_final), int(warmup)


def chunked(data: dict, n: int, chunk: int) -> dict:
    """The first ``n // chunk * chunk`` points of every array of ``data``, shaped (chunks, chunk, ...)."""
    nc = n // chunk
    return {k: v[: nc * chunk].reshape(nc, chunk, *v.shape[1:]) for k, v in data.items()}


def full_loss(terms, chunks: dict, weights: dict):
    """The loss of :func:`metricflow.cy.losses.combine` over all points of ``chunks``:
    ``terms(batch) -> (r (B,), sums)`` per chunk (``jax.checkpoint``-ed), combined once."""
    import jax

    from metricflow.cy.losses import combine

    r, sums = jax.lax.map(jax.checkpoint(terms), chunks)
    n = r.size
    return combine(r.reshape(-1), chunks["w"].reshape(-1), {k: v.sum() for k, v in sums.items()}, n, weights)


def lbfgs():
    """The L-BFGS transformation of the second phase."""
    import optax

    return optax.lbfgs(memory_size=LBFGS_MEMORY)


def lbfgs_iterations(loss_fn, tx):
    """``run(params, opt, k) -> (params, opt, last value)``: ``k`` L-BFGS iterations of
    ``loss_fn(params)`` (a ``fori_loop``: one compilation for every ``k``)."""
    import jax
    import optax

    def run(params, opt, k, value0):
        dtype = jax.tree_util.tree_leaves(params)[0].dtype

        def value_fn(p):  # in the parameters' precision, as optax's L-BFGS state keeps it
            return loss_fn(p).astype(dtype)

        def one(_, carry):
            params, opt, _ = carry
            value, grad = optax.value_and_grad_from_state(value_fn)(params, state=opt)
            updates, opt = tx.update(grad, opt, params, value=value, grad=grad, value_fn=value_fn)
            return optax.apply_updates(params, updates), opt, value.astype(value0.dtype)

        return jax.lax.fori_loop(0, k, one, (params, opt, value0))

    return run


__all__ = ["LBFGS_MEMORY", "LBFGS_PER_RECORD", "OPTIMIZERS", "SCHEDULES", "check_schedule", "chunked", "full_loss",
           "lbfgs", "lbfgs_iterations", "learning_rate", "minibatch_optimizer"]
