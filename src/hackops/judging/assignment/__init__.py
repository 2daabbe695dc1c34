"""Who judges what: the min-cost-flow solver, re-balancing, and what a judge may reach."""
