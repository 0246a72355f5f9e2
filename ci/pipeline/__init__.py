"""The registry of pipeline functions and the one runner both faces (Dagger and `bayon`) call."""
