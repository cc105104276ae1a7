"""`python -m engine`: the circuits of the CS231n backprop notes, run and checked."""

from __future__ import annotations

from . import Value, gradcheck


def main() -> None:
    print("f(x, y, z) = (x + y) * z at x=-2, y=5, z=-4")
    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    q = x + y
    f = q * z
    f.backward()
    print(f"  f = {f.data}   df/dx = {x.grad}   df/dy = {y.grad}   df/dz = {z.grad}   df/dq = {q.grad}")

    print("\na 2-D sigmoid neuron, w = [2, -3, -3], x = [-1, -2]")
    w = [Value(2.0), Value(-3.0), Value(-3.0)]
    xs = [Value(-1.0), Value(-2.0)]
    out = Value.dot(w[:2], xs, bias=w[2]).sigmoid()
    out.backward()
    print(f"  out = {out.data:.4f}   dw = {[round(v.grad, 4) for v in w]}   dx = {[round(v.grad, 4) for v in xs]}")

    print("\nstaged: f(x, y) = (x + sigmoid(y)) / (sigmoid(x) + (x + y)**2) at x=3, y=-4")

    def staged(x: Value, y: Value) -> Value:
        return (x + y.sigmoid()) / (x.sigmoid() + (x + y) ** 2)

    x, y = Value(3.0), Value(-4.0)
    f = staged(x, y)
    f.backward()
    print(f"  f = {f.data:.6f}   df/dx = {x.grad:.6f}   df/dy = {y.grad:.6f}")
    print(f"  gradcheck against central differences: {gradcheck(staged, [3.0, -4.0])}")


if __name__ == "__main__":
    main()
