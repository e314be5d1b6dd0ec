"""Human agents: accounts and sessions, the queue and who holds a conversation, assist, audit."""
