"""What several pages share: forms generated from ParamSpec lists, table models, the searchable table, the glossary,
scrolling tabs, the input policy, and the run's wording."""
