"""What many test areas share: fixtures, fakes of providers that cannot run here, and helpers."""
