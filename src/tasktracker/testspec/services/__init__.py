"""Rules that span entities: step ordering, argument rules and resolution, traceability,
export/import."""
