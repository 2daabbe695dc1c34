"""Page modules of the organizations domain: the organization and its members (`pages`), its
audit log (`audit`), accepting an invitation (`accept`)."""
