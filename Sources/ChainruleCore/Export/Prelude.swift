/// The helpers an exported script defines before its graph: where chainrule's definition
/// differs from the framework's default, the helper says which and is written as chainrule's
/// rule (exact GELU, first-maximum ties, `relu′(0) = 0`, `max(a, b)` ties to `a`, `kl(p, q)` in
/// that order, `bce` clamped at −100 with a flat clamp, softmax over the last axis, class
/// indices as integers, `abs′(0) = 0`).
enum Prelude {
    static func text(_ framework: Framework) -> String {
        (framework == .jax ? jax : torch) + common
    }

    static let jax = #"""
import jax
jax.config.update("jax_enable_x64", True)  # float64, as chainrule computes
import jax.numpy as jnp

FRAMEWORK = "jax"
where = jnp.where
def array(x): return jnp.asarray(x, dtype=jnp.float64)
def mask(c): return c.astype(jnp.float64)
def broadcast_to(x, shape): return jnp.broadcast_to(x, shape)
def transpose(x): return jnp.transpose(x)
def stack(xs): return jnp.stack(xs)
def dot(a, b): return jnp.dot(a, b)
def einsum(spec, *xs): return jnp.einsum(spec, *xs)
def take(x, offsets, shape): return x.reshape(-1)[jnp.asarray(offsets, dtype=jnp.int64)].reshape(shape)
def scatter(v, offsets, shape):
    return jnp.zeros(int(jnp.prod(jnp.asarray(shape))) if shape else 1).at[jnp.asarray(offsets, dtype=jnp.int64)].add(v.reshape(-1)).reshape(shape)
def gelu(x): return jax.nn.gelu(x, approximate=False)  # JAX's default is the tanh form; chainrule's is exact
def softmax(x): return jax.nn.softmax(x, axis=-1)
def log_softmax(x): return jax.nn.log_softmax(x, axis=-1)
def erf(x): return jax.scipy.special.erf(x)
def xlogy(x, y): return jax.scipy.special.xlogy(x, y)
def argmax_flat(x): return jnp.argmax(x.reshape(-1))  # the first largest (NaN counts as largest)
def one_hot(t, classes): return jax.nn.one_hot(t.astype(jnp.int64), classes, dtype=jnp.float64)
def stop(x): return jax.lax.stop_gradient(x)
def zeros_like(x): return jnp.zeros_like(x)
def exp(x): return jnp.exp(x)
def log(x): return jnp.log(x)
def expm1(x): return jnp.expm1(x)
def softplus(x): return jnp.logaddexp(x, 0.0)
def sum_keep(x, axis): return x.sum(axis, keepdims=True)
def positions(x): return jnp.arange(x.size)
def grad_of(f, x): return jax.grad(f)(x)
def einsum_transpose(spec, k, shape, g, *others):
    operands = list(others)
    def f(a): return jnp.einsum(spec, *(operands[:k] + [a] + operands[k:]))
    return jax.vjp(f, jnp.zeros(shape))[1](g)[0]

def gradients(graph, output, ids, shapes):
    """∂output/∂node for every node in ids: each node's value gets a zero added (a tap), and the
    gradient with respect to the taps is the gradient with respect to the nodes."""
    def run(taps):
        values = graph(lambda k, v: v + taps[k])
        return values[output].sum(), values  # a tensor output is seeded with ones, as --json does
    taps = {k: jnp.zeros(shapes[k]) for k in ids}
    grads, values = jax.grad(run, has_aux=True)(taps)
    return values, grads

def to_list(x):
    return jnp.asarray(x).tolist()

"""#

    static let torch = #"""
import torch
torch.set_default_dtype(torch.float64)  # float64, as chainrule computes

FRAMEWORK = "torch"
def where(c, a, b):
    a = a if torch.is_tensor(a) else torch.tensor(a)
    b = b if torch.is_tensor(b) else torch.tensor(b)
    return torch.where(c, a, b)
def array(x): return torch.as_tensor(x, dtype=torch.float64)  # a list, or a tensor as it is
def mask(c): return c.to(torch.float64)
def broadcast_to(x, shape): return torch.broadcast_to(x, shape)
def transpose(x): return x.permute(tuple(reversed(range(x.dim()))))  # a scalar too (permute() of no axes is an error)
def stack(xs): return torch.stack(xs)
def dot(a, b): return torch.dot(a, b)
def einsum(spec, *xs): return torch.einsum(spec, *xs)
def take(x, offsets, shape): return x.reshape(-1)[torch.tensor(offsets, dtype=torch.long)].reshape(shape)
def scatter(v, offsets, shape):
    n = 1
    for s in shape: n *= s
    return torch.zeros(n).index_add(0, torch.tensor(offsets, dtype=torch.long), v.reshape(-1)).reshape(shape)
def gelu(x): return torch.nn.functional.gelu(x)  # exact (erf), as chainrule's
def softmax(x): return torch.softmax(x, dim=-1)
def log_softmax(x): return torch.log_softmax(x, dim=-1)
def erf(x): return torch.erf(x)
def xlogy(x, y): return torch.xlogy(x, y)
def argmax_flat(x):
    # The first largest (NaN counts as largest): torch.argmax does not promise the first.
    flat = x.reshape(-1)
    nan = torch.isnan(flat)
    if bool(nan.any()): return int(torch.nonzero(nan)[0])
    return int(torch.nonzero(flat == flat.max())[0])
def one_hot(t, classes): return torch.nn.functional.one_hot(t.to(torch.long), classes).to(torch.float64)
def stop(x): return x.detach()
def zeros_like(x): return torch.zeros_like(x)
def exp(x): return torch.exp(x)
def log(x): return torch.log(x)
def expm1(x): return torch.expm1(x)
def softplus(x): return torch.logaddexp(x, torch.zeros_like(x))
def sum_keep(x, axis): return x.sum(axis, keepdim=True)
def positions(x): return torch.arange(x.numel())
def grad_of(f, x):
    if not x.requires_grad: x = x.detach().requires_grad_(True)
    y = f(x)
    if not y.requires_grad: return torch.zeros_like(x)
    g, = torch.autograd.grad(y, x, create_graph=True, allow_unused=True)
    return torch.zeros_like(x) if g is None else g
def einsum_transpose(spec, k, shape, g, *others):
    operands = list(others)
    a = torch.zeros(shape, requires_grad=True)
    y = torch.einsum(spec, *(operands[:k] + [a] + operands[k:]))
    return torch.autograd.grad(y, a, g, create_graph=True)[0]

def gradients(graph, output, ids, shapes):
    """∂output/∂node for every node in ids: each node's value gets a zero added (a tap), and the
    gradient with respect to the taps is the gradient with respect to the nodes."""
    taps = {k: torch.zeros(shapes[k], requires_grad=True) for k in ids}
    values = graph(lambda k, v: v + taps[k])
    out = values[output].sum()  # a tensor output is seeded with ones, as --json does
    found = torch.autograd.grad(out, [taps[k] for k in ids], allow_unused=True) if out.requires_grad else [None] * len(ids)
    return values, {k: (torch.zeros(shapes[k]) if g is None else g) for k, g in zip(ids, found)}

def to_list(x):
    return x.detach().tolist()

"""#

    /// The helpers both frameworks share, written in the ones above.
    static let common = #"""
def relu(x): return where(x > 0, x, zeros_like(x)) + where(x != x, stop(x), zeros_like(x))  # relu′(0) = 0; relu(−∞) = 0 (0·x would be NaN); relu(NaN) is NaN, its derivative 0
def abs_(x): return where(x > 0, x, where(x < 0, -x, 0 * x))  # abs′(0) = 0 (JAX's is 1); abs(NaN) is NaN
def step(x): return stop(where(x != x, x, mask(x > 0)))  # derivative 0, NaN stays NaN
def sign(x): return stop(where(x != x, x, mask(x > 0) - mask(x < 0)))
def normal_cdf(x): return 0.5 * (1 + erf(x / math.sqrt(2)))
def maximum(a, b): return where((a >= b) | (a != a), a, b)  # a tie goes to the first argument
def minimum(a, b): return where((a <= b) | (a != a), a, b)
def leaky_relu(x, a): return where(x > 0, x, a * where(x > 0, zeros_like(x), x))  # ∂/∂a at x = ∞ is 0, not ∞·0
def elu(x, a): return where(x > 0, x, a * expm1(where(x > 0, zeros_like(x), x)))  # the dead branch fed 0, so elu′(∞) = 1
def power(a, b): return a ** b
def first_max(x): return x.reshape(-1)[argmax_flat(x)]  # the gradient to the first largest element
def argmax_mask(x): return stop(mask(positions(x) == argmax_flat(x)).reshape(x.shape))
def sum_to(x, shape):
    while x.ndim > len(shape): x = x.sum(0)
    for axis, size in enumerate(shape):
        if size == 1 and x.shape[axis] != 1: x = sum_keep(x, axis)
    return x
def mse(y, t): return ((y - t) ** 2).mean()
def is_indices(z, t): return z.ndim >= 1 and tuple(t.shape) == tuple(z.shape[:-1])  # one class index a row
def cross_entropy(z, t):
    rows = z.reshape(-1, z.shape[-1])
    target = one_hot(stop(t).reshape(-1), z.shape[-1]) if is_indices(z, t) else t.reshape(rows.shape)  # class indices as integers
    return -(target * log_softmax(rows)).sum() / rows.shape[0]
def clamped_log(p):
    # max(log p, −100) as PyTorch's binary_cross_entropy, flat where clamped: the log of a clamped
    # p is taken of 1 instead (a "double where"), so its derivative leaks no NaN.
    live = p > math.exp(-100)
    return where(live, log(where(live, p, 1 + 0 * p)), -100 + 0 * p)
def bce(p, t): return (-t * clamped_log(p) - (1 - t) * clamped_log(1 - p)).mean()  # clamped logs are finite, so a 0 coefficient gives 0
def bce_with_logits(z, t): return (softplus(z) - t * z).mean()
def kl(p, q): return (xlogy(p, p) - xlogy(p, q)).sum()  # kl(p, q) = Σ p·(log p − log q), in this order

"""#
}
