"""The organizers' live leaderboard: cache, live state per process, JSON and SSE routes."""
