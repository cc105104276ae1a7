"""The plots: decision regions with one colour per class, the loss curve, the training GIF."""

from __future__ import annotations

import pytest

matplotlib = pytest.importorskip("matplotlib", reason="plots need matplotlib: pip install -e '.[plots]'")
np = pytest.importorskip("numpy", reason="matplotlib brings numpy")
Image = pytest.importorskip("PIL.Image", reason="matplotlib brings Pillow")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PathCollection, QuadMesh  # noqa: E402
from matplotlib.contour import ContourSet  # noqa: E402

from nn import MLP, SGD, BoundaryRecorder, Layer, animate_training, fit, losses, plot_decision_boundary, plot_loss  # noqa: E402
from nn.cli import main  # noqa: E402
from nn.data import moons, signed  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def _mesh(ax) -> QuadMesh:
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    return mesh


def _legend(ax) -> list[str]:
    return [text.get_text() for text in ax.get_legend().get_texts()]


def _linear(rows: list[tuple[float, float, float]]) -> Layer:
    """A linear layer whose class c scores w0*x1 + w1*x2 + b for rows[c] = (w0, w1, b)."""
    layer = Layer(2, len(rows), nonlin=False, seed=0)
    for neuron, (w0, w1, b) in zip(layer.neurons, rows):
        neuron.w[0].data, neuron.w[1].data, neuron.b.data = w0, w1, b
    return layer


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_three_classes_get_three_colours_and_no_band_between_0_and_2(tmp_path):
    # Class 0 wins right of x1 = 0, class 2 left of it; class 1 never wins. Contouring the
    # class index would draw a false band of class 1 along that border.
    model = _linear([(1.0, 0.0, 0.0), (0.0, 0.0, -10.0), (-1.0, 0.0, 0.0)])
    X = [(1.0, 0.0), (-1.0, 0.5), (0.5, 1.0)]
    y = [0, 2, 1]
    ax = plot_decision_boundary(model, X, y, path=tmp_path / "three.png", resolution=30, dataset="toy")
    assert (tmp_path / "three.png").read_bytes()[:8] == PNG
    mesh = _mesh(ax)
    assert mesh.cmap.N == 3  # one colour per class
    assert set(np.unique(mesh.get_array())) == {0, 2}
    assert _legend(ax) == ["class 0", "class 1", "class 2"]
    assert ax.get_xlabel() == "x1" and ax.get_ylabel() == "x2"
    assert ax.get_title() == "decision boundary on toy: accuracy 66.7%"  # the third point is class 0's


def test_class_colours_match_between_regions_and_points():
    model = _linear([(1.0, 0.0, 0.0), (-1.0, 0.0, 0.0)])
    X, y = [(1.0, 0.0), (-1.0, 0.0)], [0, 1]
    ax = plot_decision_boundary(model, X, y, resolution=10)
    mesh = _mesh(ax)
    region_colours = [mesh.cmap(mesh.norm(c))[:3] for c in (0, 1)]
    point_colours = [tuple(c.get_facecolor()[0][:3]) for c in ax.collections if isinstance(c, PathCollection)]
    for region, point in zip(region_colours, point_colours):
        # the region is the point's colour, lightened towards white
        assert all(r >= p - 1e-9 for r, p in zip(region, point))
        assert np.allclose(region, 0.3 * np.array(point) + 0.7, atol=0.01)
    assert region_colours[0] != region_colours[1]


def test_binary_scores_with_signed_labels(tmp_path):
    X, labels = moons(30, seed=0)
    y = signed(labels)
    model = MLP(2, [4, 1], seed=0)
    ax = plot_decision_boundary(model, X, y, path=tmp_path / "b.png", resolution=12, title="mine")
    assert _mesh(ax).cmap.N == 2 and _legend(ax) == ["class -1", "class +1"]
    assert ax.get_title() == "mine"
    assert ax.get_lines() == [] and len(ax.collections) >= 3  # the regions and one scatter per class


def test_the_boundary_is_drawn_where_the_score_changes_sign():
    model = _linear([(1.0, 0.0, -0.25)])  # one score: x1 - 0.25
    X, y = [(1.0, 1.0), (-1.0, -1.0)], [1, 0]
    ax = plot_decision_boundary(model, X, y, resolution=20)
    regions = _mesh(ax).get_array().reshape(80, 80)
    xs = np.linspace(-1.5, 1.5, 80)
    assert (regions[:, xs > 0.3] == 1).all() and (regions[:, xs < 0.2] == 0).all()
    segments = [v for c in ax.collections if isinstance(c, ContourSet) for p in c.get_paths() for v in p.vertices]
    line = [v for v in segments if abs(v[0] - 0.25) < 1e-9]
    assert line, "the contour of score 0 runs along x1 = 0.25"


def test_plot_decision_boundary_checks_its_arguments():
    model = MLP(2, [1], seed=0)
    with pytest.raises(ValueError, match="resolution must be at least 2"):
        plot_decision_boundary(model, [(0.0, 0.0)], [1], resolution=1)
    with pytest.raises(ValueError, match="1 points but 2 labels"):
        plot_decision_boundary(model, [(0.0, 0.0)], [1, 0])


def test_plot_loss_has_labels_a_legend_and_a_summary(tmp_path):
    X, labels = moons(20, seed=0)
    model = MLP(2, [4, 1], seed=0)
    history = fit(model, X, signed(labels), losses.hinge, SGD(model.parameters(), lr=0.1), steps=3, progress=False)
    ax = plot_loss(history, path=tmp_path / "loss.png")
    assert (tmp_path / "loss.png").read_bytes()[:8] == PNG
    assert _legend(ax) == ["loss", "training accuracy"]
    assert ax.get_xlabel() == "step" and ax.get_ylabel() == "loss"
    assert ax.get_title().startswith("training: 3 steps, final loss ")
    with pytest.raises(ValueError, match="history is empty"):
        plot_loss(type(history)())


def _frames(path) -> int:
    with Image.open(path) as image:
        assert image.format == "GIF"
        return image.n_frames


def test_the_recorder_writes_a_gif_of_the_boundary_as_it_learns(tmp_path):
    X, labels = moons(20, seed=0)
    y = signed(labels)
    model = MLP(2, [4, 1], seed=0)
    recorder = BoundaryRecorder(model, X, y, every=2, resolution=8, dataset="moons")
    fit(model, X, y, losses.hinge, SGD(model.parameters(), lr=0.5), steps=5, progress=False, callback=recorder)
    assert [frame.step for frame in recorder.frames] == [0, 2, 4]
    path = recorder.save(tmp_path / "training.gif", fps=4, hold=1.0)
    assert [frame.step for frame in recorder.frames] == [0, 2, 4, 5]  # and the trained model
    assert recorder.frames[-1].loss is None and recorder.frames[0].loss > 0
    assert path == tmp_path / "training.gif"
    assert _frames(path) >= 4  # four frames (the last one held; Pillow may merge the repeats)


def test_animate_training_trains_and_keeps_the_callers_callback(tmp_path):
    X, labels = moons(20, seed=0)
    y = signed(labels)
    model = MLP(2, [4, 1], seed=0)
    seen = []
    history = animate_training(
        model,
        X,
        y,
        losses.hinge,
        SGD(model.parameters(), lr=0.5),
        tmp_path / "a.gif",
        every=1,
        resolution=6,
        steps=3,
        progress=False,
        callback=lambda k, loss: seen.append(k),
    )
    assert len(history.loss) == 3 and seen == [0, 1, 2]
    assert _frames(tmp_path / "a.gif") >= 4


def test_the_recorder_checks_its_arguments(tmp_path):
    model, X, y = MLP(2, [1], seed=0), [(0.0, 0.0)], [1]
    with pytest.raises(ValueError, match="every must be a whole number of steps >= 1"):
        BoundaryRecorder(model, X, y, every=0)
    with pytest.raises(ValueError, match="resolution must be a whole number >= 2"):
        BoundaryRecorder(model, X, y, resolution=1)
    with pytest.raises(ValueError, match="no frames recorded"):
        BoundaryRecorder(model, X, y).save(tmp_path / "x.gif")
    assert not (tmp_path / "x.gif").exists()


def test_cli_animate_writes_the_gif(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["train", "--steps", "4", "--out", str(out), "--no-progress", "--animate"]) == 0
    assert _frames(out / "training.gif") >= 5  # steps 0..3 and the trained model
    assert "training.gif" in capsys.readouterr().out


def test_the_recorder_plots_frames_side_by_side(tmp_path):
    X, labels = moons(20, seed=0)
    y = signed(labels)
    model = MLP(2, [4, 1], seed=0)
    recorder = BoundaryRecorder(model, X, y, every=1, resolution=6, dataset="moons")
    fit(model, X, y, losses.hinge, SGD(model.parameters(), lr=0.5), steps=6, progress=False, callback=recorder)
    axes = recorder.plot(count=3, path=tmp_path / "strip.png")
    assert (tmp_path / "strip.png").read_bytes()[:8] == PNG
    assert [ax.get_title().split(":")[0] for ax in axes] == ["step 0", "step 3", "step 6"]  # first, middle, trained
    assert axes[0].figure._suptitle.get_text() == "the decision boundary while training on moons"
    with pytest.raises(ValueError, match="count must be a whole number >= 1"):
        recorder.plot(count=0)


def test_more_classes_than_the_palette_still_get_one_colour_each():
    import math

    rows = [(math.cos(2 * math.pi * c / 12), math.sin(2 * math.pi * c / 12), 0.0) for c in range(12)]
    X = [(row[0], row[1]) for row in rows]
    ax = plot_decision_boundary(_linear(rows), X, list(range(12)), resolution=8)
    mesh = _mesh(ax)
    assert mesh.cmap.N == 12 and len(set(map(tuple, mesh.cmap(np.arange(12))))) == 12
    assert len(_legend(ax)) == 12
    assert ax.get_title().endswith("accuracy 100%")
