"""The Socket.IO protocol: payload validation, authentication, event handlers, broadcasts."""
