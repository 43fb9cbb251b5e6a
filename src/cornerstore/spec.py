"""The Segment Spec vocabulary cornerstore reads, in one place.

Message types, the traits that identify a person, name them, or tell identity resolution who
they are, the parts of an address, and the track events learning reads by default. Names are
as stored: Spec traits arrive in camelCase (``firstName``, ``postalCode``) and are kept in
snake_case (``first_name``, ``postal_code``). See https://segment.com/docs/connections/spec/.

>>> "track" in MESSAGE_TYPES, IDENTIFYING_TRAITS["email"], MATCHING_TRAITS["zip"]
(True, 'email', 'postcode')
"""

from __future__ import annotations

from typing import Literal, get_args

MessageType = Literal["identify", "track", "page", "screen", "group", "alias"]
#: Every Spec message type, in the Spec's order.
MESSAGE_TYPES: tuple[str, ...] = get_args(MessageType)

#: Traits whose value is an identifier of the person, with the identifier kind it is kept as
#: (looked for in ``traits`` and ``context.traits``).
IDENTIFYING_TRAITS: dict[str, str] = {"email": "email", "phone": "phone"}

#: Traits that hold a person's name, in whole or in part (name search indexes their words).
NAME_TRAITS: tuple[str, ...] = ("first_name", "middle_name", "last_name", "name", "full_name")

#: The parts of an ``address`` trait (an object), as stored.
ADDRESS_PARTS: tuple[str, ...] = ("street", "city", "postal_code", "country", "state")

#: Traits that tell who a person is, each with the field of the person it fills when identity
#: resolution compares two customers (several spellings fill one field). A customer who gains
#: one of them is placed again.
MATCHING_TRAITS: dict[str, str] = {
    "first_name": "first_name",
    "last_name": "last_name",
    "name": "full_name",
    "full_name": "full_name",
    "email": "email",
    "phone": "phone",
    "address": "address",
    "city": "city",
    "state": "state",
    "postal_code": "postcode",
    "postcode": "postcode",
    "zip": "postcode",
    "country": "country",
}

#: Track events learning reads unless settings name others (``learn`` settings).
ORDER_COMPLETED = "Order Completed"
DELIVERY_ATTEMPTED = "Delivery Attempted"
CASE_OPENED = "Case Opened"
CASE_RESOLVED = "Case Resolved"
#: A message on a case from a system that speaks the Spec (properties case_id, text, direction).
CASE_MESSAGE = "Case Message"
#: The track events the contact centre files as cases (see docs/cases.md).
CASE_EVENTS = (CASE_OPENED, CASE_MESSAGE, CASE_RESOLVED)
SURVEY_ANSWERED = "Survey Answered"
