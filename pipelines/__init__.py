"""Item pipelines: thin Scrapy components that call into ``portal_archive``."""
