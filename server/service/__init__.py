"""Use cases: each command reads like a recipe — resolve who acts, apply the domain rule, persist, audit."""
