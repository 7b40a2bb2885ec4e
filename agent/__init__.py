"""The agent users talk to: engine, CLI, chat REPL, daemon."""
