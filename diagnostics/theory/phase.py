"""The phase diagram: ordered and chaotic regions in the (sigma_w**2, sigma_b**2) plane.

Each point is a weight and bias variance; its colour the depth scale xi_c
over which two inputs' correlation reaches its fixed point (see
``correlation``). xi_c diverges on the order-to-chaos line chi_1 = 1, which
``critical_sigma_w`` traces for each bias variance, as in Poole et al.
(2016) and Schoenholz et al. (2017).
"""

import math
from dataclasses import dataclass

import numpy as np

import tinynet as tn

from ._checks import as_activation, check_count
from .criticality import _critical_sigma_ws, _regimes

__all__ = ["PhaseDiagram", "phase_diagram", "plot_phase_diagram"]


@dataclass(frozen=True, eq=False)
class PhaseDiagram:
    """``xi_c[i, j]`` and ``chi[i, j]`` at ``sigma_b2[i]``, ``sigma_w2[j]``; the critical line.

    ``critical_sigma_w2[i]`` is the sigma_w**2 where chi_1 = 1 at
    ``sigma_b2[i]`` (nan where there is none in range). ``unbounded[i, j]``:
    the variance grows without bound there, so the correlation map has no
    fixed point and ``xi_c`` is nan (``chi`` is chi_1's limit).
    """

    activation: str
    sigma_w2: np.ndarray
    sigma_b2: np.ndarray
    xi_c: np.ndarray
    chi: np.ndarray
    critical_sigma_w2: np.ndarray
    unbounded: np.ndarray = None

    def __repr__(self):
        return (f"PhaseDiagram({self.activation}, {len(self.sigma_w2)} x {len(self.sigma_b2)} points, sigma_w^2 "
                f"{self.sigma_w2[0]:g} to {self.sigma_w2[-1]:g}, sigma_b^2 {self.sigma_b2[0]:g} to "
                f"{self.sigma_b2[-1]:g})")

    def _repr_html_(self):
        """The table ``phase`` prints (the critical line, xi_c at a few points), in HTML."""
        from ..report import phase_text  # imported here: the reports are built on the theory's results

        return phase_text(self).to_html()


def phase_diagram(activation, sigma_w2=(0.5, 4.0), sigma_b2=(0.0, 0.25), points=(41, 26), progress=True):
    """xi_c and chi_1 on a grid of ``points`` (sigma_w**2, sigma_b**2) values over the two ranges.

    The grid's points, and the critical line's rows, are each solved
    together; ``progress`` shows a bar over the two (``tinynet.progress_bar``; False: silent).
    """
    owner = "phase_diagram"
    act = as_activation(activation, owner)
    nw, nb = (check_count(owner, "points", n, minimum=2) for n in points)
    w2 = np.linspace(*sigma_w2, nw)
    b2 = np.linspace(*sigma_b2, nb)
    if not (w2[0] > 0 and b2[0] >= 0):
        raise ValueError(f"{owner}: sigma_w2 must be > 0 and sigma_b2 >= 0, got {sigma_w2}, {sigma_b2}")
    bar = tn.progress_bar(total=2, desc=f"phase diagram of {act.name}", enabled=progress, unit="stage")
    points = _regimes(act, np.sqrt(w2)[None, :], np.sqrt(b2)[:, None])
    xi = np.array([math.nan if r.xi_c is None else r.xi_c for r in points]).reshape(nb, nw)
    unbounded = np.array([r.q_fixed_point == math.inf for r in points]).reshape(nb, nw)
    bar.update(1)
    chi = np.array([r.chi for r in points]).reshape(nb, nw)
    found = _critical_sigma_ws(act, np.sqrt(b2), math.sqrt(w2[0]), math.sqrt(w2[-1]), 1.0)
    line = [math.nan if isinstance(w, str) else w * w for w in found]
    bar.update(1)
    bar.close()
    return PhaseDiagram(act.name, w2, b2, xi, chi, np.array(line), unbounded)


def plot_phase_diagram(diagram, path=None):
    """Draw a ``PhaseDiagram``: log10 xi_c as colour, the critical line drawn and labelled.

    Returns the matplotlib Figure when ``path`` is None, else writes it there.
    """
    from ..figure import finish, new_figure

    d = diagram
    fig, ax = new_figure((7.0, 4.6))
    from matplotlib import colormaps
    from matplotlib.colors import LogNorm
    from matplotlib.patches import Patch

    finite = d.xi_c[np.isfinite(d.xi_c)]
    top = float(finite.max())
    # an infinite xi_c (on the line, or tanh without bias below it, where q* = 0 and the network
    # is linear) lies above the colour scale and takes its own colour, labelled in the colour bar
    # and the legend; an unbounded variance has no xi_c: left blank
    cmap = colormaps["viridis"].with_extremes(over="crimson")
    shown = np.ma.masked_invalid(np.where(np.isinf(d.xi_c), 2 * top, d.xi_c))
    mesh = ax.pcolormesh(d.sigma_w2, d.sigma_b2, shown, shading="nearest",
                         norm=LogNorm(vmin=max(0.5, float(finite.min())), vmax=top), cmap=cmap)
    infinite = bool(np.isinf(d.xi_c).any())
    bar = fig.colorbar(mesh, ax=ax, extend="max" if infinite else "neither")
    bar.set_label("xi_c: depth scale of correlations (layers, log scale)"
                  + ("; top: infinite" if infinite else ""))
    ax.plot(d.critical_sigma_w2, d.sigma_b2, color="white", linewidth=2.0, linestyle="--")
    on_line = np.flatnonzero(np.isfinite(d.critical_sigma_w2))
    if on_line.size:  # label the line where it is drawn, on the side with room for the text
        i = on_line[np.argmin(np.abs(on_line - len(d.sigma_b2) * 3 // 4))]
        x = d.critical_sigma_w2[i]
        left = (x - d.sigma_w2[0]) > 0.45 * (d.sigma_w2[-1] - d.sigma_w2[0])
        ax.annotate("order-to-chaos line\nchi_1 = 1 (xi_c infinite)", (x, d.sigma_b2[i]),
                    xytext=(-150 if left else 40, 0), textcoords="offset points", color="white", fontsize=10,
                    va="center", arrowprops=dict(arrowstyle="->", color="white"),
                    # a dark box keeps the white text readable over the blank (unbounded) region too
                    bbox=dict(boxstyle="round,pad=0.2", fc="0.15", ec="none", alpha=0.6))
    keys = []
    if infinite:
        keys.append(Patch(color="crimson", label="xi_c infinite (unbounded depth scale)"))
    if np.isnan(d.xi_c).any():
        keys.append(Patch(facecolor="white", edgecolor="0.5",
                          label="blank: the variance grows without bound (no fixed point, so no xi_c)"))
    if keys:
        ax.legend(handles=keys, loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=8, frameon=False)
    # name only the phases the plane shows
    if (d.chi < 1.0).any():
        ax.text(0.04, 0.55, "ordered\n(inputs become alike)", transform=ax.transAxes, color="white",
                fontsize=10, va="top")
    if ((d.chi > 1.0) & ~np.isnan(d.xi_c)).any():
        ax.text(0.96, 0.1, "chaotic\n(inputs become unlike)", transform=ax.transAxes, color="black",
                fontsize=10, ha="right")
    ax.set_xlabel("sigma_w^2 (weight variance x fan-in)")
    ax.set_ylabel("sigma_b^2 (bias variance)")
    fig.suptitle(f"{d.activation}: the order-to-chaos transition (mean field)")
    return finish(fig, path)
