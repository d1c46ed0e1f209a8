"""What a regulator looks at first (DESIGN.md, "Who uses it": flagged evidence first): the evidence
queue (``selectors``) and the counts of 查询统计 (``statistics``). Reads only, no models: every row
comes from the domain apps, through the scopes of ``server.access``."""
