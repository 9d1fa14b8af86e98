"""History in the window: journal link, settings, key timelines, rates, statistics, scroll-back."""
