"""The description of a graph: bindings, keys and markers, signatures read once, the
graph, its checks and the build recipe. Imports nothing from ``injectq.runtime``."""
