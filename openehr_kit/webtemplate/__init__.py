"""Web templates (EHRbase/Better JSON format)."""
