// Placeholder: the worker entry point (download → run → probe → upload → report).
export {};
