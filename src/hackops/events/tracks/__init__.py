"""An event's tracks (prize categories) and awards."""
