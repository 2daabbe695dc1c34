"""Page modules of the accounts domain: sign-up and sign-in, OAuth, the account pages."""
