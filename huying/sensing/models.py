"""Sensing (感知预警): sensors on the territory, their readings and the alert rules over them."""
