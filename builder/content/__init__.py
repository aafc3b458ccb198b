"""The nouns of a site: Site, Topic, Column, Page, Record — and how they are loaded from folders."""
