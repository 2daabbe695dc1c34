"""Platform admins' API routes that read a lower domain but need the sign-in dependencies."""
