"""HTTP: health, read-only JSON behind tokens, and (later) the screens' pages."""
