"""What DEAR publishes on the Hub: model and dataset cards, each rendered from a template in `hub_cards/`."""
