"""diagnostics: see why a tinynet network's gradients vanish or explode.

Built only on tinynet's public API (hooks, layers, activations), as any
user's tool would be.
"""
