"""Appointments: booking, rescheduling and cancelling without double-booking."""
