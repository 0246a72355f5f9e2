"""Bayon Pipeline: portable CI/CD pipeline-as-code for a Next.js + TypeScript app on AWS, on Dagger."""

from .main import Ci as Ci
