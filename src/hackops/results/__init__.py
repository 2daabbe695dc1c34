"""Results: winners per award, the frozen ranking, publication."""
