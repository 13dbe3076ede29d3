"""Accessibility coverage: who lives within reach of a facility (可达性覆盖).

Demand (residents, elderly residents) comes from community tables, a population raster or
the township totals; distances are straight-line, straight-line around barriers (lakes,
rivers) or over a road network. The modules here are pure numpy/shapely/scipy: no Qt.
"""
