"""Figures: per-layer log10 gradient norm against depth (matplotlib, the ``plot`` extra)."""

INSTALL_HINT = "plotting needs matplotlib: pip install 'tinynet[plot]' (or pip install matplotlib)"


def require_matplotlib():
    """Import matplotlib with a headless backend, or raise ImportError saying how to install it."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_gradient_curves(results, path, title=None):
    """Write a PNG: log10 gradient norm against layers passed back, one panel per activation.

    ``results`` are ExperimentResults; a configuration's predicted curves,
    where present in ``result.extra`` (``predicted_per_layer_grad_norm_log10``
    and ``typical_per_layer_grad_norm_log10``), are drawn dashed and dotted
    in the same colour as the measured one.
    """
    plt = require_matplotlib()
    activations = list(dict.fromkeys(r.activation for r in results))
    fig, axes = plt.subplots(1, len(activations), figsize=(5.2 * len(activations), 4.2),
                             squeeze=False, sharey=False)
    for ax, act in zip(axes[0], activations):
        for i, r in enumerate(x for x in results if x.activation == act):
            if not r.per_layer_grad_norm_log10:
                continue
            color = f"C{i}"
            label = r.init if r.scale is None else f"{r.init} {r.scale:g}"
            layers = range(1, len(r.per_layer_grad_norm_log10) + 1)
            ax.plot(layers, r.per_layer_grad_norm_log10, color=color, label=label)
            for key, style in (("predicted_per_layer_grad_norm_log10", "--"),
                               ("typical_per_layer_grad_norm_log10", ":")):
                curve = r.extra.get(key)
                if curve:
                    ax.plot(layers, curve, style, color=color, linewidth=1)
        ax.set_title(act)
        ax.set_xlabel("layers passed back from the output")
        ax.set_ylabel("log10 ||gradient||")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if any(r.extra.get("predicted_per_layer_grad_norm_log10") for r in results):
        fig.text(0.01, 0.01, "solid: measured   dashed: mean-field   dotted: typical (finite width)",
                 fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
