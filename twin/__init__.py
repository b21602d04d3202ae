"""myna-twin domain core: entities, rules and events. Imports no engine and no UI."""
