"""Account recovery, the first-sign-in password choice and portal session activity."""
