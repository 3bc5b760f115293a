"""Figures (matplotlib, the ``plot`` extra): every figure the command line draws.

Each figure has a title that wraps to fit, labelled axes, a legend or
colour bar for every encoding, and the theory's predictions drawn dashed
with markers over the solid measurements, so both stay visible.
"""

import numpy as np

from .figure import (
    INSTALL_HINT, check_format, finish, integer_ticks, new_figure, require_matplotlib, suptitle, supported_formats,
)

# the figure helpers are found here too, beside the figures they make
__all__ = ["INSTALL_HINT", "require_matplotlib", "supported_formats", "check_format", "new_figure", "finish",
           "integer_ticks", "suptitle", "STYLE_NOTE", "gradient_curves", "critical_curves", "matrix_products",
           "spectrum_histogram", "training", "remedy_curves", "trainability_heatmap"]

STYLE_NOTE = {"measured": dict(linestyle="-", marker=None),
              "mean-field": dict(linestyle="--", marker="o"),
              "typical": dict(linestyle=":", marker="s")}


def _style_handles(kinds):
    """Legend entries for the line styles (colours have a legend of their own)."""
    from matplotlib.lines import Line2D

    return [Line2D([], [], color="0.3", linewidth=1.8 if k == "measured" else 1, markersize=4,
                   **STYLE_NOTE[k], label=k if k == "measured" else f"{k} (predicted)") for k in kinds]


def gradient_curves(results, path=None, title=None):
    """log10 of the gradient's Frobenius norm against layers passed back, one panel per activation.

    ``results`` are ``ExperimentResult``\\ s: measured solid, the theory's
    mean-field dashed with circles and typical dotted with squares, in the
    configuration's colour, with a band of one standard deviation between
    networks around the typical curve where the theory gives one.
    """
    activations = list(dict.fromkeys(r.activation for r in results))
    width = 5.2 * len(activations)
    fig, axes = new_figure((width, 5.2), 1, len(activations), squeeze=False)
    for ax, act in zip(axes[0], activations):
        for i, r in enumerate(x for x in results if x.activation == act):
            color = f"C{i}"
            label = r.init if r.scale is None else f"{r.init} {r.scale:g}"
            depth = len(r.per_layer_grad_norm_log10) or (r.depth if r.prediction else 0)
            layers = np.arange(1, depth + 1)
            every = max(1, depth // 8)
            if r.per_layer_grad_norm_log10:
                ax.plot(layers, r.per_layer_grad_norm_log10, color=color, linewidth=1.8, label=label)
            else:
                label += f" ({r.verdict}: not drawn)"
                ax.plot([], [], color=color, label=label)
            if r.prediction is not None:
                draw_profile(ax, layers, r.prediction.profile, color, every, mean_field=True, zorder=3)
        ax.set_title(act)
        integer_ticks(ax.xaxis)
        ax.set_xlabel("layers passed back from the output")
        ax.set_ylabel("log10 of the gradient's Frobenius norm")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best", title="weights", title_fontsize=7)
    kinds = ["measured", "mean-field", "typical"] if any(r.prediction for r in results) else ["measured"]
    handles = _style_handles(kinds)
    if any(r.prediction is not None and r.prediction.profile.per_layer_grad_norm_log10_sd is not None
           for r in results):
        from matplotlib.patches import Patch

        handles.append(Patch(color="0.3", alpha=0.15, label="typical ± sd between networks (predicted)"))
    # one panel is too narrow for the line styles in one row
    columns = len(handles) if len(activations) > 1 else 2
    fig.legend(handles=handles, loc="lower center", ncol=columns, fontsize=8,
               title="line (same colour: same weights)", title_fontsize=8)
    suptitle(fig, title, width)
    return finish(fig, path, bottom=0.13 if columns == len(handles) else 0.19)


def draw_profile(ax, layers, profile, color, every, mean_field=False, zorder=3, from_output=False):
    """Draw a predicted ``GradientProfile`` on ``ax`` against ``layers``: its curve and its spread.

    The curve is dotted with squares (typical) or dashed with circles
    (mean-field, ``profile.statistic``), in a band of one standard deviation
    between networks where known; ``mean_field``: the mean-field curve too,
    dashed. ``from_output``: ``layers`` starts at 0, the output, where the
    backward pass starts from the identity (``log10_initial_norm``).
    """
    start = [profile.log10_initial_norm] if from_output else []
    curves = [(profile.statistic, profile.per_layer_grad_norm_log10)]
    if mean_field and profile.statistic == "typical":
        curves.insert(0, ("mean-field", profile.mean_field_per_layer_grad_norm_log10))
    for kind, curve in curves:
        y = np.array([*start, *curve], dtype=float)
        y[~np.isfinite(y)] = np.nan  # a gain of exactly 0: nothing to draw
        ax.plot(layers, y, color=color, linewidth=1, markersize=3.5, markevery=every, zorder=zorder,
                **STYLE_NOTE[kind])
    sd = profile.per_layer_grad_norm_log10_sd
    if sd is not None:  # how far one network strays from the typical curve
        band = np.array([*([0.0] * len(start)), *sd])
        ax.fill_between(layers, y - band, y + band, color=color, alpha=0.15, linewidth=0)


def critical_curves(result, path=None, title=None):
    """log10 of the gradient's norm against layers passed back, at each candidate sigma_w of ``critical``.

    ``result`` is a ``CriticalResult`` whose candidates were probed: per
    candidate, in its colour, each network thin and faint, their median
    solid, and the theory's typical curve dotted with squares in a band of
    one standard deviation between networks. Layer 0 is the output, where
    the backward pass starts from the identity.
    """
    fig, ax = new_figure((6.4, 5.2))
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    layers = np.arange(0, result.depth + 1)
    every = max(1, result.depth // 8)
    start = 0.5 * np.log10(result.fan_in)  # the identity's norm, before any layer
    for i, c in enumerate(x for x in result.candidates if x.prediction is not None):
        color = f"C{i}"
        # a network whose gradient became exactly 0 (log10 = -inf) or non-finite has no curve to draw
        finite = [[start, *m] for m in c.measured_per_layer if m is not None and np.isfinite(m).all()]
        for curve in finite:
            ax.plot(layers, curve, color=color, linewidth=0.6, alpha=0.3)
        label = f"{c.label}, sigma_w = {c.sigma_w:.4g}"
        if len(finite) < len(c.measured_per_layer):
            label += f" ({len(c.measured_per_layer) - len(finite)} of {len(c.measured_per_layer)} networks: " \
                     "gradient 0 or non-finite, not drawn)"
        if finite:
            ax.plot(layers, np.median(finite, axis=0), color=color, linewidth=1.8, label=label, zorder=4)
        else:
            ax.plot([], [], color=color, label=label)
        draw_profile(ax, layers, c.prediction, color, every, zorder=5, from_output=True)
    integer_ticks(ax.xaxis)
    ax.set_xlabel("layers passed back from the output")
    ax.set_ylabel("log10 of the gradient's Frobenius norm (decades)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best", title="candidate scale", title_fontsize=7)
    handles = _style_handles(["measured", "typical"])
    handles[0].set_label("measured, median of the networks")
    handles.insert(1, Line2D([], [], color="0.3", linewidth=0.6, alpha=0.5, label="measured, one network"))
    if any(c.prediction is not None and c.prediction.per_layer_grad_norm_log10_sd is not None
           for c in result.candidates):
        handles.append(Patch(color="0.3", alpha=0.15, label="typical ± sd between networks (predicted)"))
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=8,
               title="line (same colour: same sigma_w)", title_fontsize=8)
    suptitle(fig, title, 6.4)
    return finish(fig, path, bottom=0.14)


def matrix_products(results, path=None, title=None):
    """log10 of a product's norm after each factor, measured, beside the Lyapunov exponent's line."""
    fig, ax = new_figure((5.6, 4.8))
    for i, m in enumerate(results):
        steps = np.arange(0, m.n + 1)
        start = 0.5 * np.log10(m.k)  # the identity the product starts from
        ax.plot(steps, np.concatenate([[start], m.per_step_log10_norm]), color=f"C{i}", linewidth=1.8,
                label=f"scale {m.scale:g}")
        if m.prediction is not None:
            ax.plot(steps, start + m.prediction.lyapunov_log10_per_step * steps, color=f"C{i}",
                    markevery=max(1, m.n // 8), markersize=3.5, linewidth=1, zorder=3, **STYLE_NOTE["mean-field"])
    integer_ticks(ax.xaxis)
    ax.set_xlabel("matrices multiplied")
    ax.set_ylabel("log10 of the product's Frobenius norm")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best", title="entries N(0, scale^2)", title_fontsize=8)
    styles = _style_handles(["measured", "mean-field"])
    styles[1].set_label("Lyapunov rate (predicted)")
    fig.legend(handles=styles, loc="lower center", ncol=2, fontsize=8)
    suptitle(fig, title, 5.6)
    return finish(fig, path, bottom=0.1)


def spectrum_histogram(spectra, path=None, title=None, measured=None, predicted=None):
    """Histogram of the resolved log10 singular values of J over all networks.

    ``measured`` and ``predicted`` (log10 var/mean^2 of J J^T's eigenvalues)
    go in the legend, where they can be compared.
    """
    fig, ax = new_figure((6, 4.4))
    values = np.concatenate([s.log10_singular_values[s.resolved] for s in spectra])
    values = values[np.isfinite(values)]
    label = f"{len(spectra)} network{'s' if len(spectra) != 1 else ''}, {values.size} singular values"
    ax.hist(values, bins=40, color="C0", label=label)
    from matplotlib.lines import Line2D

    handles = [ax.patches[0]] if ax.patches else []
    for name, v in (("measured", measured), ("predicted", predicted)):
        if v is not None and np.isfinite(v):
            handles.append(Line2D([], [], linestyle="none", label=f"log10 var/mean² of J Jᵀ, {name}: {v:.2f}"))
    ax.legend(handles=handles, fontsize=8)
    ax.set_xlabel("log10 singular value of J")
    ax.set_ylabel("count (singular values)")
    integer_ticks(ax.yaxis)
    ax.grid(alpha=0.3)
    suptitle(fig, title, 6)
    return finish(fig, path)


def training(history, path=None, title=None, chance_loss=None, clip_grad_norm=None):
    """A ``TrainingMonitor``'s history: loss, the whole gradient's norm (before and after clipping,
    when anything was clipped), and per layer the weight gradient's norm and the activations' std.

    The layers are told apart by colour, with a colour bar from the input
    side to the output side; ``chance_loss`` (the loss of a uniform guess,
    ln(classes) for cross-entropy) and ``clip_grad_norm`` (the max norm
    clipped to) are drawn as dashed lines. A loss spanning a decade or more
    is drawn on a log axis.
    """
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    steps = [h["step"] for h in history]
    fig, axes = new_figure((12, 8.4), 2, 2)
    loss_ax, norm_ax, grad_ax, std_ax = axes.ravel()
    loss = np.array([h["loss"] for h in history], dtype=float)
    loss_ax.plot(steps, loss, color="C0", label="training loss")
    if chance_loss is not None:
        loss_ax.axhline(chance_loss, color="0.4", linestyle="--", linewidth=1,
                        label=f"chance: a uniform guess, {chance_loss:.2f}")
    if _spans_decades(loss):
        loss_ax.set_yscale("log")
    loss_ax.set_title("loss (cross-entropy)", fontsize=10)
    loss_ax.set_ylabel("loss (log scale)" if loss_ax.get_yscale() == "log" else "loss")
    loss_ax.legend(fontsize=8)
    before, after = (np.array([np.nan if h[key] is None else h[key] for h in history], dtype=float)
                     for key in ("grad_norm", "clipped_grad_norm"))
    with np.errstate(invalid="ignore"):
        clipped = bool((after < before).any())
    if clipped:
        norm_ax.plot(steps, np.log10(np.maximum(before, 1e-300)), color="C3", linewidth=1.8,
                     label="before clipping")
        norm_ax.plot(steps, np.log10(np.maximum(after, 1e-300)), color="C0", linestyle="--", marker="o",
                     markersize=3, linewidth=1, label="after clipping, as the step used it")
    else:
        never = "" if clip_grad_norm is None else ", never clipped"
        norm_ax.plot(steps, np.log10(np.maximum(before, 1e-300)), color="C3", linewidth=1.8,
                     label=f"the whole gradient's norm{never}")
    if clip_grad_norm is not None:
        norm_ax.axhline(np.log10(clip_grad_norm), color="0.4", linestyle=":", linewidth=1.2,
                        label=f"max norm clipped to, {clip_grad_norm:g}")
    norm_ax.set_title("log10 of the norm of the whole gradient (all parameters)", fontsize=10)
    norm_ax.set_ylabel("log10 of the gradient norm")
    norm_ax.legend(fontsize=8)
    cmap = colormaps["viridis"]
    panels = ((grad_ax, "weight_grad_norm", "log10 of each layer's weight-gradient norm"
               + (", before clipping" if clipped else "")),
              (std_ax, "activation_std", "log10 of each activation's output std"))
    for ax, key, label in panels:
        values = np.array([h[key] for h in history], dtype=float)
        n = values.shape[1] if values.ndim == 2 else 0
        norm = Normalize(vmin=1, vmax=max(n, 2))
        for i in range(n):
            # an exact zero is drawn at -300, the bottom of what can be told apart
            ax.plot(steps, np.log10(np.maximum(values[:, i], 1e-300)), color=cmap(norm(i + 1)), linewidth=1)
        ax.set_title(label, fontsize=10)
        ax.set_ylabel("log10")
        if n:
            bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax)
            bar.set_label("layer (1: input side)")
            integer_ticks(bar.ax.yaxis)
    for ax in axes.ravel():
        ax.set_xlabel("training step")
        integer_ticks(ax.xaxis)
        ax.grid(alpha=0.3)
    suptitle(fig, title, 12)
    return finish(fig, path)


def _spans_decades(values):
    """Whether the finite ``values``, all positive, span a factor of 10 or more (a log axis shows them better)."""
    values = values[np.isfinite(values)]
    return values.size > 1 and values.min() > 0 and values.max() >= 10 * values.min()


def remedy_curves(results, path=None, title=None):
    """The gradient's change after each block, one panel per failing network, a colour per remedy.

    ``results`` are ``RemedyResult``\\ s: the median measured change solid,
    the predicted one dashed with circles in the same colour (none where
    the theory gives no prediction).
    """
    networks = list(dict.fromkeys(r.config.network for r in results))
    width = 5.2 * len(networks)
    fig, axes = new_figure((width, 6.0), 1, len(networks), squeeze=False)
    # one colour per remedy, whatever sigma_w the critical initialization has for each activation
    def remedy(config):
        return "critical init (He for ReLU)" if config.remedy == "critical_init" else config.label

    colors = {label: f"C{i}" for i, label in enumerate(dict.fromkeys(remedy(r.config) for r in results))}
    for ax, network in zip(axes[0], networks):
        for r in (x for x in results if x.config.network == network):
            color = colors[remedy(r.config)]
            for curve, style, line in ((r.measured_per_block, STYLE_NOTE["measured"], 1.8),
                                       (r.predicted_per_block, STYLE_NOTE["mean-field"], 1)):
                if curve:
                    y = np.array([np.nan if v is None else v for v in curve], dtype=float)
                    blocks = np.arange(1, len(y) + 1)
                    ax.plot(blocks, y, color=color, linewidth=line, markersize=3.5,
                            markevery=max(1, len(y) // 8), zorder=3 if line == 1 else 2, **style)
        ax.set_title(network)
        integer_ticks(ax.xaxis)
        ax.set_xlabel("blocks passed back from the output")
        ax.set_ylabel("change of log10 gradient norm (decades)")
        ax.grid(alpha=0.3)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=c, linewidth=2, label=label) for label, c in colors.items()]
    fig.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.02, 0.0), ncol=4, fontsize=8,
               title="remedy (colour)", title_fontsize=8)
    styles = _style_handles(["measured", "mean-field"])
    styles[1].set_label("predicted (the typical network)")
    fig.legend(handles=styles, loc="lower right", bbox_to_anchor=(0.98, 0.0), ncol=1, fontsize=8,
               title="line", title_fontsize=8)
    suptitle(fig, title, width)
    return finish(fig, path, bottom=0.16)


def _log_edges(centres):
    """Cell edges for ``centres`` on a log axis: the geometric midpoints, and as far again at the ends."""
    c = np.log(np.asarray(centres, dtype=float))
    if len(c) == 1:
        return np.exp(np.array([c[0] - 0.2, c[0] + 0.2]))
    mid = (c[1:] + c[:-1]) / 2
    return np.exp(np.concatenate([[2 * c[0] - mid[0]], mid, [2 * c[-1] - mid[-1]]]))


def trainability_heatmap(result, path=None, boundary=None, title=None):
    """Training accuracy over sigma_w^2 (x) and depth (y), with the predicted depth and the critical line.

    ``result`` is a ``TrainabilityResult``; ``boundary``: ``(sigma_w2,
    predicted_depth)`` arrays, the theory's trainable depth drawn as a
    curve (None: only at the grid's columns).
    """
    r = result
    sigma_w2 = np.array([c.sigma_w2 for c in r.columns])
    accuracy = np.array([[np.nan if a is None else a for a in c.accuracy] for c in r.columns])
    fig, ax = new_figure((7.5, 5.6))
    x_edges, y_edges = _log_edges(sigma_w2), _log_edges(r.depths)
    mesh = ax.pcolormesh(x_edges, y_edges, accuracy.T, cmap="viridis", vmin=0.0, vmax=1.0)
    for i, s in enumerate(sigma_w2):
        for j, d in enumerate(r.depths):
            if not np.isnan(accuracy[i, j]):
                # boxed in the cell's own colour, so a line through the cell passes behind the number
                ax.text(s, d, f"{accuracy[i, j]:.2f}", ha="center", va="center", fontsize=8, zorder=4,
                        color="black" if accuracy[i, j] > 0.6 else "white",
                        bbox=dict(boxstyle="round,pad=0.2", ec="none", fc=mesh.cmap(mesh.norm(accuracy[i, j]))))
    networks = f"mean of {r.n_seeds} networks" if r.n_seeds > 1 else "one network"
    fig.colorbar(mesh, ax=ax, label=f"training accuracy ({networks} a cell)")
    if boundary is None:
        boundary = (sigma_w2, np.array([c.predicted_depth for c in r.columns]))
    bx, by = (np.asarray(v, dtype=float) for v in boundary)
    by = np.where(np.isfinite(by), by, np.nan)  # unbounded at the critical point: the curve leaves the top
    # a white halo under each line keeps it visible over dark and light cells alike
    ax.plot(bx, by, color="white", linewidth=3.2)
    ax.plot(bx, by, color="crimson", linestyle="--", linewidth=1.8,
            label=rf"predicted trainable depth, {r.trainable_xi_c:g} $\xi_c$")
    if r.critical_sigma_w2 is not None and x_edges[0] <= r.critical_sigma_w2 <= x_edges[-1]:
        ax.axvline(r.critical_sigma_w2, color="white", linewidth=3.2)
        ax.axvline(r.critical_sigma_w2, color="black", linestyle=":", linewidth=1.8,
                   label=rf"critical $\sigma_w^2$ = {r.critical_sigma_w2:.3g} ($\chi_1$ = 1)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(x_edges[0], x_edges[-1])
    ax.set_ylim(y_edges[0], y_edges[-1])
    ax.set_xticks(sigma_w2, [f"{s:.3g}" for s in sigma_w2])
    ax.set_xticks([], minor=True)
    ax.set_yticks(r.depths, [str(d) for d in r.depths])
    ax.set_yticks([], minor=True)
    ax.set_xlabel(r"$\sigma_w^2$ (fan-in $\times$ the weights' variance)")
    ax.set_ylabel("depth (hidden layers)")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8, frameon=False)
    suptitle(fig, title, 7.5)
    return finish(fig, path)
