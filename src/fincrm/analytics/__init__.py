"""Pure analytics for fincrm: NumPy/polars in, NumPy/polars out, no Django, ever."""
