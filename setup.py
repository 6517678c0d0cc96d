"""Lets ``scrapyd-deploy`` build the project's egg (it runs ``setup.py bdist_egg``).

Everything is declared in ``pyproject.toml`` (packages, package data, the ``scrapy`` settings
entry point scrapyd reads); without this file, scrapyd-deploy would write a generic one that
names the egg "project" and packs every folder with an ``__init__.py``, ``tests/`` included.
"""

from setuptools import setup

setup()
