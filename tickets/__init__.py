"""Tickets: faults, complaints, business requests and inquiries with deadlines from the service guide.

Plain Python (``tickets.service.TicketService``); Rasa actions and the REST API only translate to it.
"""
