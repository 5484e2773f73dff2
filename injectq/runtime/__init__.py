"""The runtime container: the exec compiler of recipes, the create-once protocol, scopes,
overrides and ``@inject``."""
