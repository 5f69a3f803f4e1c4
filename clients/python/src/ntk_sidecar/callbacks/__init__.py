"""Framework callbacks around SidecarMonitor. Each module imports its framework only when a callback is built,
so `import ntk_sidecar.callbacks.keras` works without Keras; building the callback without it raises
ImportError naming the extra to install. The *Logic classes hold the framework-free behaviour."""
