"""Device drivers for the appliances: scanners, buttons, touchscreen, receipt printer (see docs/HARDWARE.md)."""
