"""A refusal as the office says it: in the reader's language (through the catalog), with
the human names of states, criteria, outcomes and roles, dates and amounts as the office
writes them, and the form's own words rather than the command line's.

The domain gives a code and its parameters (`models.errors`); every code has its wording
here, and a test fails on one without it or without its Swedish translation.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from grants.render import MONTHS, format_amount, format_date, format_datetime
from grants.web.i18n import N_, _, current_language
from grants.web.labels import LABELS, label
from models.errors import Refused
from models.tables import Criterion, Role
from models.text import quoted

# Parameters that are amounts in kronor: written as the office writes money.
AMOUNTS = {"amount", "requested", "minimum", "maximum", "left", "budget", "total", "cash", "rate",
           "granted", "standing", "owed"}  # fmt: skip

WORDING = {
    "state.illegal": N_(
        "Case %(case_reference)s is “%(state)s” and cannot go on to “%(wanted)s”; from here "
        "it can go on to: %(allowed)s."
    ),
    "state.closed": N_("Case %(case_reference)s is closed: nothing more can be done in it."),
    "state.step_not_now": N_(
        "Case %(case_reference)s is “%(state)s”: this step is taken only while it is %(states)s."
    ),
    "case.not_found": N_("There is no such case."),
    "case.no_letter": N_("There is no such letter in case %(case_reference)s."),
    "delivery.nothing_to_send_again": N_(
        "Case %(case_reference)s has no letter that could not be delivered; a letter waiting "
        "for the mail server goes by itself as soon as it answers."
    ),
    "case.no_document": N_("There is no such document in case %(case_reference)s."),
    "case.no_preview": N_(
        "This preview in case %(case_reference)s is no longer kept; preview the step again."
    ),
    "case.no_review_task": N_("There is no such case."),
    "access.conflicted": N_(
        "You have declared a conflict of interest in case %(case_reference)s and may neither "
        "see nor act on it."
    ),
    "access.who_acts": N_("Sign in as a registered person to do this."),
    "access.not_registered": N_("%(email)s is not a registered person in this office."),
    "access.role": N_(
        "Only a person with the role %(roles)s may do this; %(name)s has the role %(role)s."
    ),
    "access.role_for_step": N_(
        "Only a person with the role %(roles)s may take this step; %(name)s has the role %(role)s."
    ),
    "access.deactivated": N_("%(name)s is deactivated and can no longer act in the office."),
    "people.email_taken": N_("E-mail: %(email)s is already the e-mail of %(name)s."),
    "people.unknown": N_("No registered person has the e-mail %(email)s."),
    "people.quorum_above_group": N_(
        "Quorum (review_quorum) = %(quorum)s: more than the %(size)s reviewer(s) of the "
        "advisory group; a case could not be moved on."
    ),
    "people.own_account": N_("%(name)s cannot deactivate themselves or change their own role."),
    "people.nothing_changed": N_("Nothing to change for %(email)s."),
    "people.role": N_("Role = %(role)s: not a role for people; one of %(roles)s."),
    "field.invalid": N_("%(field)s = “%(value)s”: %(reason)s"),
    "facts.nothing_changed": N_(
        "Case %(case_reference)s: the details given are those it already has; change what is wrong."
    ),
    "facts.number_taken": N_(
        "Organisation number = %(number)s: already the number of %(organisation)s, another "
        "applicant."
    ),
    "state_aid.no_declaration": N_(
        "Case %(case_reference)s: the applicant carries on economic activity, so the grant is "
        "de minimis aid (Regulation (EU) 2023/2831); its declaration of other de minimis aid "
        "received in the last three years is missing. The case officer asks for it and records "
        "it before the grant is signed."
    ),
    "state_aid.over_ceiling": N_(
        "Case %(case_reference)s: the de minimis aid declared for the last three years (EUR "
        "%(declared_euro)s) and this grant (EUR %(grant_euro)s) come to EUR %(total_euro)s, over "
        "the ceiling of EUR %(ceiling_euro)s for a single undertaking (Regulation (EU) "
        "2023/2831, article 3(2))."
    ),
    "state_aid.nothing": N_(
        "Say whether the applicant carries on economic activity, or give its declaration of "
        "other de minimis aid."
    ),
    "access.not_a_reviewer": N_(
        "%(name)s has the role %(role)s; reviewers are advisors or case officers."
    ),
    "access.no_review_task": N_("%(name)s has no review task in case %(case_reference)s."),
    "checklist.not_received": N_(
        "Case %(case_reference)s is “%(state)s”: the checklist is done while the case is "
        "received (new, or its supplement just came)."
    ),
    "checklist.unanswered": N_("Answer every basic requirement. Missing: %(missing)s."),
    "checklist.note_needed": N_(
        "%(criterion)s is “%(answer)s”: write a note saying why (it goes to the applicant or "
        "into the proposal)."
    ),
    "checklist.formal_not_met": N_(
        "%(requirement)s cannot be “not met”: a formal requirement is met or unclear. Choose "
        "unclear and say what is missing; an application that stays incomplete may then be "
        "dismissed."
    ),
    "answer.no_request": N_("Case %(case_reference)s has no such request."),
    "answer.answered": N_("This request in case %(case_reference)s is already answered."),
    "answer.not_waiting": N_(
        "Case %(case_reference)s no longer waits for an answer to this request."
    ),
    "answer.nothing": N_("Upload a file or write a message (or both)."),
    "review.conflicted_reviewer": N_(
        "%(name)s declared a conflict of interest in case %(case_reference)s and cannot be "
        "brought back (FL 16–18 §§)."
    ),
    "review.has_task": N_("%(name)s already has a review task in case %(case_reference)s."),
    "review.quorum_reachable": N_(
        "Case %(case_reference)s can still reach its quorum: %(able)s reviewer(s) without a "
        "conflict of interest for %(quorum)s review(s)."
    ),
    "review.none_submitted": N_(
        "No review of case %(case_reference)s has been submitted yet: go on with at least "
        "one, or name a substitute reviewer."
    ),
    "review.declared": N_(
        "%(name)s declared “%(ground)s” in case %(case_reference)s on %(declared_on)s; a "
        "declaration is not changed afterwards."
    ),
    "review.own_organisation_applicant": N_(
        "%(organisation)s, the organisation of %(name)s, is the applicant in case "
        "%(case_reference)s: declare the conflict of interest (own organisation)."
    ),
    "review.own_organisation_partner": N_(
        "%(organisation)s, the organisation of %(name)s, is a partner in case "
        "%(case_reference)s: declare the conflict of interest (own organisation)."
    ),
    "review.conflict_note": N_("Say what the conflict of interest (“%(ground)s”) consists of."),
    "review.undeclared": N_(
        "%(name)s must first declare any conflict of interest in case %(case_reference)s."
    ),
    "review.submitted": N_(
        "%(name)s submitted a review of case %(case_reference)s on %(submitted_on)s; it is "
        "part of the record."
    ),
    "review.reasons_missing": N_(
        "Give the reasons for every basic requirement. Missing: %(missing)s."
    ),
    "review.not_in_review": N_(
        "Case %(case_reference)s is “%(state)s”: reviews are given while it is in review."
    ),
    "review.no_amount": N_(
        "No amount goes with the recommendation “%(recommendation)s” (you gave %(amount)s)."
    ),
    "review.granted_is_requested": N_(
        "“Granted” is the amount applied for, %(requested)s; recommend “partly granted” for "
        "less (you gave %(amount)s)."
    ),
    "review.amount_needed": N_("“Partly granted” needs the proposed amount."),
    "review.amount_out_of_range": N_(
        "The proposed amount, %(amount)s, must be at least %(minimum)s and less than the "
        "%(requested)s applied for."
    ),
    "decision.not_drafting": N_(
        "Case %(case_reference)s is “%(state)s”: a draft is prepared while the decision is "
        "being drafted."
    ),
    "decision.reply_assessment": N_(
        "The applicant commented on the communication: say what was made of the comments "
        "(FL 25 §); the decision states it."
    ),
    "material.source": N_("Say who the material comes from."),
    "material.empty": N_("Give the statement, or what the document says in short."),
    "material.not_communicated": N_(
        "The draft in case %(case_reference)s rests on material from others that the "
        "applicant has not been given: %(sources)s. Communicate it first (FL 25 §)."
    ),
    "material.unsettled": N_(
        "The draft in case %(case_reference)s (version %(version)s) changed after the "
        "communication of version %(communicated)s: communicate the new material from others, "
        "or record that nothing new from others is added (FL 25 §)."
    ),
    "decision.unknown_requirement": N_("Not basic requirements: %(unknown)s."),
    "decision.reasons_missing": N_(
        "Word the decision's finding on every basic requirement (FL 32 §). Missing: "
        "%(missing)s. The reviews are input, not the decision's text."
    ),
    "decision.grant_not_met": N_(
        "“%(outcome)s” needs every basic requirement met; not met: %(not_met)s."
    ),
    "decision.co_financing": N_(
        "The co-financing, %(total)s, is less than the %(amount)s granted; the guidelines ask "
        "for at least as much."
    ),
    "decision.decisive_cut": N_(
        "A draft that is “%(outcome)s” must say what the cut rests on (FL 32 §)."
    ),
    "decision.decisive_why": N_("A draft that is “%(outcome)s” must say why (FL 32 §)."),
    "decision.not_communicated": N_(
        "The draft in case %(case_reference)s is “%(outcome)s” and the applicant has not seen "
        "it: communicate it first, or record why that is obviously unnecessary (FL 25 §)."
    ),
    "decision.amended_further": N_(
        "The amended draft in case %(case_reference)s goes further against the applicant "
        "than what they have seen: send it back so that it can be communicated (FL 25 §)."
    ),
    "decision.comment": N_("Say what the case officer should look at again."),
    "decision.wrong_state": N_(
        "Case %(case_reference)s is “%(state)s”: this step is taken while it is “%(wanted)s”."
    ),
    "decision.no_draft": N_("Case %(case_reference)s has no draft decision to act on."),
    "decision.no_reviews": N_("There are no reviews to go on: choose the outcome."),
    "decision.reviews_ask_supplement": N_(
        "The reviews ask for a supplement: request it, or choose the outcome."
    ),
    "decision.over_budget": N_(
        "%(amount)s is more than the call %(call)s has left: %(left)s of its budget of %(budget)s."
    ),
    "decision.no_amount": N_("No amount goes with “%(outcome)s” (you gave %(amount)s)."),
    "decision.amount_needed": N_("“%(outcome)s” needs the amount granted."),
    "decision.amount_out_of_range": N_(
        "The amount, %(amount)s, must be between %(minimum)s and %(maximum)s for “%(outcome)s”."
    ),
    "decision.granted_is_requested": N_(
        "“Granted” is the %(requested)s applied for; choose “partly granted” for less (you "
        "gave %(amount)s)."
    ),
    "decision.reply_not_awaited": N_(
        "Case %(case_reference)s is “%(state)s” and waits for no reply to a communication."
    ),
    "decision.not_undecided": N_(
        "Case %(case_reference)s is “%(state)s”: only an undecided application can be withdrawn."
    ),
    "decision.withdrawal_reason": N_("Say what the decision to close the case rests on."),
    "meeting.no_time_zone": N_("Give the meeting's time with its time zone."),
    "meeting.in_the_past": N_("The meeting must be in the future (you gave %(at)s)."),
    "meeting.length": N_("A meeting lasts 15 to 480 minutes (you gave %(minutes)s)."),
    "meeting.no_place": N_("Say where the meeting is, or how to join it."),
    "meeting.no_note": N_("The file note must say what was said."),
    "meeting.not_booked": N_(
        "No meeting is booked in case %(case_reference)s: book it first, or skip it with a reason."
    ),
    "meeting.not_held": N_("The meeting ends %(ends_at)s: document it once it has been held."),
    "meeting.no_reason": N_("Say why no meeting is needed."),
    "meeting.nothing_to_cancel": N_(
        "No meeting is booked in case %(case_reference)s: there is nothing to cancel."
    ),
    "meeting.already_held": N_(
        "The meeting ended %(ends_at)s: a meeting that has been held cannot be cancelled. "
        "Document it with a file note."
    ),
    "meeting.no_cancel_reason": N_(
        "Say why the meeting is cancelled; the applicant reads it in the letter."
    ),
    "meeting.not_a_working_day": N_(
        "%(day)s is not a working day; meetings with applicants are held on working days."
    ),
    "meeting.office_hours": N_(
        "The meeting (%(starts)s–%(ends)s) must be within office hours, %(opens)s–%(closes)s."
    ),
    "meeting.place_booked": N_(
        "%(place)s is already booked %(starts)s–%(ends)s for another meeting."
    ),
    "meeting.people_booked": N_("%(people)s already in another meeting %(starts)s–%(ends)s."),
    "meeting.wrong_state": N_(
        "Case %(case_reference)s is “%(state)s”: the meeting step comes when the review is "
        "complete."
    ),
    "supplement.nothing_missing": N_("Say what the applicant must supplement."),
    "supplement.dismissal_unreasoned": N_(
        "Dismissal is only for a gap that prevents examining the application at all (FL 20 §): "
        "say why this one does, or let the case be examined as it stands."
    ),
    "supplement.dismissal_reason_unasked": N_(
        "A reason for dismissal was given, but the request is to examine the case as it stands."
    ),
    "supplement.not_awaited": N_(
        "Case %(case_reference)s is “%(state)s” and waits for no supplement."
    ),
    "document.empty": N_("The file %(filename)s is empty."),
    "document.too_large": N_("The file %(filename)s is too large: at most 20 MB is accepted."),
    "document.unaccepted_kind": N_(
        "The file %(filename)s is of a kind the case cannot take. Send a PDF, an image (PNG, "
        "JPEG, GIF or WebP), an OpenDocument or Word (DOCX) document, or plain text."
    ),
    "document.unpacks_too_large": N_(
        "The file %(filename)s would take up more than 20 MB once unpacked (an OpenDocument "
        "or Word file is a packed archive), so it cannot be accepted. Save it as a PDF, or "
        "split it, and send that."
    ),
    "document.packed_too_tightly": N_(
        "The file %(filename)s is packed far more tightly than a document is, as files made "
        "to harm a computer are, so it cannot be accepted. Save it as a PDF and send that."
    ),
    "reporting.talk_in_the_past": N_(
        "A Community Talk is registered before it is held (you gave %(held_on)s)."
    ),
    "reporting.talk_texts": N_(
        "The theme in Swedish and in English (letters go out in both) and the venue are all needed."
    ),
    "reporting.talk_address": N_("Give the venue's street address, so that people find it."),
    "reporting.talk_ends": N_(
        "The talk must end after it starts (%(starts_at)s); you gave %(ends_at)s."
    ),
    "reporting.talks_a_year": N_(
        "%(year)s already has %(count)s Community Talks; the Partnership holds %(limit)s a year."
    ),
    "talk_answer.not_invited": N_(
        "Case %(case_reference)s is “%(state)s”: a Community Talk is answered by a funded "
        "project invited to one."
    ),
    "talk_answer.closed": N_(
        "The answers to the Community Talk of %(held_on)s closed on %(reply_by)s: the answer "
        "stands. Contact the case officer to change it."
    ),
    "talk_answer.talk": N_(
        "Community Talk “%(talk)s”: choose one of the coming Community Talks listed."
    ),
    "talk_answer.presenters": N_(
        "Who presents “%(presenters)s”: give the name of each person who presents (at most "
        "%(longest)s characters)."
    ),
    "talk_answer.attendees": N_(
        "How many come “%(attendees)s”: give a whole number from 1 to %(most)s."
    ),
    "talk_attendance.not_held": N_(
        "The Community Talk of %(held_on)s is not held yet: attendance is registered after it."
    ),
    "talk_attendance.came": N_("How many came “%(came)s”: give a whole number from 0 to %(most)s."),
    "talk_attendance.presented_by": N_(
        "Presented by “%(presented_by)s”: give who presented (at most %(longest)s characters), "
        "and how many came."
    ),
    "access.statistics_only": N_(
        "%(name)s reads the committee's statistics and annual report, not the cases."
    ),
    "access.talks_only": N_(
        "%(name)s arranges the Community Talks and reads their programmes, not the cases."
    ),
    "reporting.not_held_yet": N_("A presentation is recorded once held (you gave %(on)s)."),
    "reporting.report_registered": N_(
        "The final report of case %(case_reference)s is already registered."
    ),
    "reporting.not_reporting": N_(
        "Case %(case_reference)s is “%(state)s”: reporting is recorded for funded projects "
        "invited to a Community Talk."
    ),
    "payment.no_grant": N_("Case %(case_reference)s has no signed grant to pay."),
    "payment.not_accepted": N_(
        "Case %(case_reference)s: the grantee has not accepted the grant's conditions; nothing "
        "is paid before they do."
    ),
    "payment.no_organisation_number": N_(
        "Case %(case_reference)s: %(organisation)s has no organisation number; nothing is paid "
        "without one."
    ),
    "payment.no_account": N_(
        "Case %(case_reference)s: the grantee has given no account to pay the grant to."
    ),
    "payment.report_not_approved": N_(
        "Case %(case_reference)s: instalment %(instalment)s is paid once the final report is "
        "approved, and it is not yet."
    ),
    "payment.already_prepared": N_(
        "Case %(case_reference)s: every instalment due is prepared already."
    ),
    "payment.same_account": N_(
        "Case %(case_reference)s: the bank rejected instalment %(instalment)s to this account; "
        "put the account right before preparing it again."
    ),
    "payment.over_grant": N_(
        "Case %(case_reference)s: %(amount)s more would pay more than the %(granted)s granted "
        "(%(standing)s is prepared or paid already); the payment plan or the decision has "
        "changed since."
    ),
    "payment.unknown_order": N_("There is no payment order %(order)s in case %(case_reference)s."),
    "payment.not_attestant": N_(
        "%(name)s has the role %(role)s and is no attestant: the decision maker or an "
        "attestant attests payment orders."
    ),
    "payment.own_order": N_(
        "%(name)s prepared payment order %(reference)s; another person attests it (four eyes)."
    ),
    "payment.not_prepared": N_(
        "Payment order %(reference)s is “%(status)s”: only a prepared order is attested."
    ),
    "payment.account_on_hold": N_(
        "Payment order %(reference)s in case %(case_reference)s waits: the account was changed and "
        "no second person has confirmed the change yet."
    ),
    "payment.account_changed": N_(
        "Payment order %(reference)s in case %(case_reference)s names an account that is no longer "
        "the case's; cancel it and prepare it again."
    ),
    "payment.not_cancellable": N_(
        "Payment order %(reference)s is “%(status)s”: only an order not yet sent to the bank can "
        "be cancelled."
    ),
    "payment.cancel_reason": N_("Say why the payment order is cancelled."),
    "payment.not_exported": N_(
        "Payment order %(reference)s is “%(status)s”: only an order sent to the bank is registered "
        "as paid."
    ),
    "payment.paid_ahead": N_("A payment is registered once it is made (you gave %(on)s)."),
    "identifier.organisation_number_shape": N_("must be 10 digits written NNNNNN-NNNN"),
    "identifier.personal_number": N_(
        "digits 3–4 must be 20 or more (otherwise it is a personal number)"
    ),
    "identifier.check_digit": N_("the check digit (the last digit) does not match"),
    "identifier.bankgiro_shape": N_("must be 7 or 8 digits, written NNN-NNNN or NNNN-NNNN"),
    "identifier.plusgiro_shape": N_("must be 2 to 8 digits, written NNNNNN-N"),
    "identifier.clearing_shape": N_(
        "must be 4 digits (5 for a Swedbank clearing number beginning with 8)"
    ),
    "identifier.clearing_unknown": N_("no Swedish bank has the clearing number %(clearing)s"),
    "identifier.clearing_check_digit": N_(
        "the fifth digit (the check digit of a Swedbank clearing number) does not match"
    ),
    "identifier.account_shape": N_("an account number at %(bank)s has %(digits)s digits"),
    "acceptance.no_grant": N_(
        "Case %(case_reference)s has no signed grant whose conditions could be accepted."
    ),
    "acceptance.given": N_(
        "The conditions of %(case_reference)s were accepted on %(accepted_at)s by "
        "%(signatory_name)s; they are accepted once."
    ),
    "acceptance.not_given": N_(
        "The conditions of %(case_reference)s are not accepted yet; the account is given "
        "with the acceptance."
    ),
    "account.one": N_(
        "Give one account: a bankgiro, a plusgiro, or a clearing number and an account number."
    ),
    "account.unchanged": N_("%(account)s is the account of %(case_reference)s already."),
    "account.nothing_to_confirm": N_(
        "Case %(case_reference)s has no changed account waiting to be confirmed."
    ),
    "account.same_person": N_(
        "%(email)s registered the change of account of %(case_reference)s; a second person "
        "confirms it."
    ),
    "field.not_text": N_("must be text"),
    "field.required": N_("is required"),
    "field.too_long": N_("is %(length)s characters long; at most %(limit)s are allowed"),
    "field.not_kronor": N_("must be a whole number of kronor"),
    "field.too_many_digits": N_("has more than %(limit)s digits"),
    "field.negative": N_("must not be negative"),
    "field.ore": N_("must be whole kronor, without öre"),
    "field.not_an_amount": N_("must be a whole number of kronor, such as 50000 or 50 000 kr"),
    "field.not_hours": N_("must be a whole number of hours"),
    "field.not_a_date": N_("is not a date written YYYY-MM-DD"),
    "field.year_out_of_range": N_("lies outside the years %(first)s–%(last)s"),
    "field.not_an_email": N_("is not a valid e-mail address"),
    "field.not_a_municipality": N_(
        "is not a municipality in Örebro county; the call is open to organisations in "
        "%(municipalities)s"
    ),
    "field.not_a_legal_form": N_("is not a legal form of civil society; accepted: %(legal_forms)s"),
    "field.not_a_language": N_("must be sv (Swedish) or en (English)"),
    "field.not_partners": N_("must be a list of partners, written “Name: support; …”"),
    "field.partner_without_name": N_("every partner needs a name"),
    "field.not_yes_no": N_("must be yes or no"),
    "field.not_other_aid": N_(
        "must be “none”, or each aid as “Grantor: amount in kronor: YYYY-MM-DD”, separated by "
        "semicolons"
    ),
    "field.aid_item": N_(
        "aid no. %(number)s lacks a part, or has one that cannot be read: write the grantor, "
        "the amount in kronor and the date YYYY-MM-DD"
    ),
    "field.unreadable": N_("cannot be read"),
    "field.received_in_the_future": N_("lies in the future (today is %(today)s)"),
    "field.call_closed": N_("the call takes no applications in %(month_numbers)s"),
    "field.number_of_another_form": N_(
        "does not belong to a %(legal_form)s (its numbers start with %(digit)s)"
    ),
    "field.number_required": N_("is required for a %(legal_form)s"),
    "field.amount_out_of_range": N_("must be between %(minimum)s and %(maximum)s in this call"),
    "field.co_financing": N_(
        "the co-financing is %(cash)s in cash plus %(hours)s hours × %(rate)s = %(total)s, "
        "less than the %(amount)s applied for; it must be at least as much"
    ),
    "field.end_before_start": N_("is before the project's start (%(start)s)"),
    "field.project_too_long": N_(
        "the project may run at most %(months)s months, to %(last)s at the latest"
    ),
    "field.start_before_received": N_(
        "is before the application was received (%(received)s); the grant cannot pay for "
        "work already done"
    ),
    "payments.not_configured": N_(
        "The Region's account for payments is not configured: the configuration needs its "
        "[payments] section."
    ),
    "payments.nothing_to_export": N_(
        "No attested payment order is ready for a payment file (%(held)s attested order(s) "
        "wait for a confirmed account)."
    ),
    "open_data.not_configured": N_(
        "The 360Giving prefix and the funder are not configured: the configuration needs its "
        "[open_data] section."
    ),
    "open_data.period": N_("The last day, %(last)s, is before the first, %(first)s."),
    "open_data.nothing_granted": N_(
        "No grant was decided from %(first)s to %(last)s; a 360Giving file holds at least one."
    ),
    "open_data.no_municipality_code": N_(
        "Case %(case_reference)s: the municipality %(municipality)s has no municipality code "
        "(kommunkod) in the table of municipalities."
    ),
    "open_data.conflict": N_(
        "%(name)s declared a conflict of interest in a case granted from %(first)s to "
        "%(last)s; another case officer or the decision maker publishes the period."
    ),
    "bank.too_large": N_("The file is %(size)s bytes; a bank report is at most %(limit)s."),
    "bank.not_xml": N_("The file is not an XML document: %(problem)s"),
    "bank.hostile": N_(
        "The file declares a document type (DTD) or entities; a bank report never does, and "
        "it was not read."
    ),
    "bank.unknown_kind": N_(
        "The file is not a pain.002.001.03 status report or a camt.054.001.02 notification "
        "(its document is %(kind)s)."
    ),
    "bank.invalid": N_("The file is not a valid %(kind)s: %(problem)s"),
    "bank.unknown_file": N_(
        "The status report answers payment file %(message_id)s, which was not made here."
    ),
    "bank.unknown_payment": N_(
        "The report names payment %(end_to_end_id)s, which is in no payment file made here."
    ),
    "bank.not_sent": N_(
        "Payment %(end_to_end_id)s (%(case_reference)s) is “%(status)s”, not sent to the "
        "bank: the report cannot change it."
    ),
    "bank.amount_differs": N_(
        "The bank reports payment %(end_to_end_id)s (%(case_reference)s) debited with "
        "%(reported)s kr, but the order is for %(amount)s."
    ),
    # Repayment claims (models.repayment).
    "repayment.not_granted": N_("Case %(case_reference)s has no signed grant to claim back."),
    "repayment.amount": N_("A repayment claim is whole kronor above 0 (you gave %(amount)s)."),
    "repayment.over_granted": N_(
        "%(amount)s is more than the %(left)s of the grant of %(granted)s that is not already "
        "claimed back."
    ),
    "repayment.reason_kind": N_(
        "Say whether the money was unused or misused (you gave “%(reason_kind)s”; one of "
        "%(kinds)s)."
    ),
    "repayment.reason": N_("Say in words why the money is claimed back."),
    "repayment.no_claim": N_("Case %(case_reference)s has no repayment claim %(number)s."),
    "repayment.wrong_status": N_(
        "Repayment claim %(number)s of case %(case_reference)s is “%(status)s”; this is done "
        "while it is %(wanted)s."
    ),
    "repayment.reply_empty": N_("Write what the grantee said."),
    "repayment.deadline_running": N_(
        "The grantee may comment on repayment claim %(number)s of case %(case_reference)s "
        "until %(deadline)s and has not yet; decide after that."
    ),
    "repayment.assessment": N_(
        "The grantee commented: say what was made of the comments (FL 25 §); the decision "
        "states it."
    ),
    "repayment.drafted_it": N_(
        "%(email)s drafted repayment claim %(number)s of case %(case_reference)s; another "
        "person must decide it."
    ),
    "repayment.no_bankgiro": N_(
        "The Region's bankgiro for repayments is not configured, or “%(bankgiro)s” is not a "
        "bankgiro number."
    ),
    "repayment.withdrawal_reason": N_("Say why the claim is withdrawn."),
    "repayment.withdraw_decided": N_(
        "Repayment claim %(number)s of case %(case_reference)s is decided; only a decision "
        "maker withdraws it."
    ),
    "repayment.paid_amount": N_(
        "A payment is whole kronor above 0 and at most the %(owed)s still owed (you gave "
        "%(amount)s)."
    ),
    "repayment.paid_on": N_(
        "A payment is registered on or before today, %(today)s (you gave %(paid_on)s)."
    ),
    # Closing: the notice board's day, appeals and rulings (models.closing).
    "closing.announced_ahead": N_(
        "The notice board's day is registered once it has come: %(announced_on)s is after "
        "today, %(today)s."
    ),
    "closing.covers_after_announced": N_(
        "The minutes announced on %(announced_on)s report decisions signed before that day "
        "(you gave %(covers_until)s)."
    ),
    "closing.already_covered": N_(
        "The decisions signed up to %(covered)s already have their notice-board day "
        "(%(announced_on)s); give a later last day than %(covers_until)s."
    ),
    "closing.no_decision": N_("Case %(case_reference)s has no decision in force to appeal."),
    "closing.appeal_texts": N_("Say who appealed, to which court, and the court's case number."),
    "closing.received_ahead": N_(
        "An appeal is registered once it has come in: %(received_on)s is after today, %(today)s."
    ),
    "closing.received_before_decision": N_(
        "The appeal cannot have come in on %(received_on)s: the decision was signed on "
        "%(signed_on)s."
    ),
    "closing.unknown_appeal": N_("Case %(case_reference)s has no appeal %(number)s."),
    "closing.already_ruled": N_(
        "The ruling on appeal %(number)s of case %(case_reference)s is already registered "
        "(%(ruling)s, %(ruled_on)s)."
    ),
    "closing.unknown_ruling": N_(
        "Say whether the court upheld or annulled the decision (you gave “%(ruling)s”)."
    ),
    "closing.ruled_ahead": N_(
        "A ruling is registered on a day from the appeal's (%(received_on)s) to today "
        "(%(today)s); you gave %(ruled_on)s."
    ),
    "final_report.no_grant": N_("Case %(case_reference)s has no signed grant to report on."),
    "final_report.not_a_count": N_("must be a whole number of people, 0 or more"),
    "final_report.funding_status": N_("must be applied for or won"),
    "final_report.too_many": N_("%(count)s %(what)s: at most %(limit)s."),
    "final_report.incomplete": N_(
        "The report is not complete and was not sent: fill in what was done, the results, "
        "what you learned and the grant spent (still empty: %(fields)s)."
    ),
    "final_report.submitted": N_(
        "The final report of %(case_reference)s was sent on %(submitted_at)s and waits for "
        "the case officer; it is edited again only if more is asked for."
    ),
    "final_report.approved": N_("The final report of %(case_reference)s is approved already."),
    "final_report.not_submitted": N_(
        "Case %(case_reference)s has no final report waiting for approval (the report is "
        "“%(status)s”)."
    ),
    "final_report.more_reason": N_("Say what more the report needs."),
    "final_report.nothing_unspent": N_(
        "The report of %(case_reference)s shows nothing unspent (%(paid)s kr paid, %(spent)s "
        "kr spent): there is no repayment claim to draft."
    ),
    "follow_up.not_asked": N_(
        "Case %(case_reference)s has not been sent its follow-up yet; it is answered once it has."
    ),
    "follow_up.closed": N_(
        "The follow-up of %(case_reference)s could be answered until %(deadline)s; the answer "
        "stands."
    ),
    "follow_up.too_many": N_("%(count)s rows of further funding: at most %(limit)s."),
    "follow_up.runner": N_("must be the project itself or another organisation"),
}

# The form fields a refusal concerns, by the names the office's forms give them: the
# refusal is then said at its field as well as at the top. A name may take the refusal's
# parameters ("note_{criterion}"); a list parameter names one field per item. Where several
# forms refuse alike, each form's field is listed: only those the refused form has count.
FILES = ("supplement_file", "reply_file", "withdrawal_file", "final_report_file", "file")
AMOUNT = ("draft_amount", "granted_amount")
DECISIVE = ("draft_decisive", "decisive")
DISMISS_BECAUSE = ("checklist_dismiss_because", "request_dismiss_because")
FIELDS: dict[str, tuple[str, ...]] = {
    "checklist.unanswered": ("{missing}",),
    "checklist.note_needed": ("note_{criterion}",),
    "checklist.formal_not_met": ("{requirement}",),
    "answer.nothing": ("file", "message"),
    "review.conflict_note": ("note",),
    "review.quorum_reachable": ("reason",),
    "review.none_submitted": ("reason",),
    "review.reasons_missing": ("reason_{missing}",),
    "review.no_amount": ("proposed_amount",),
    "review.granted_is_requested": ("proposed_amount",),
    "review.amount_needed": ("proposed_amount",),
    "review.amount_out_of_range": ("proposed_amount",),
    "decision.reply_assessment": ("draft_reply_assessment",),
    "decision.reasons_missing": ("draft_reason_{missing}",),
    "decision.grant_not_met": ("draft_outcome", "outcome"),
    "decision.co_financing": AMOUNT,
    "decision.decisive_cut": DECISIVE,
    "decision.decisive_why": DECISIVE,
    "decision.not_communicated": ("no_communication_because",),
    "material.source": ("material_source",),
    "material.empty": ("material_text",),
    "material.unsettled": ("nothing_new_from_others",),
    "decision.comment": ("comment",),
    "decision.over_budget": AMOUNT,
    "decision.no_amount": AMOUNT,
    "decision.amount_needed": AMOUNT,
    "decision.amount_out_of_range": AMOUNT,
    "decision.granted_is_requested": AMOUNT,
    "decision.withdrawal_reason": ("withdrawal_reason",),
    "meeting.no_time_zone": ("meeting_time",),
    "meeting.in_the_past": ("meeting_date",),
    "meeting.length": ("meeting_minutes",),
    "meeting.no_place": ("meeting_place",),
    "meeting.no_note": ("meeting_note",),
    "meeting.no_reason": ("skip_reason",),
    "meeting.no_cancel_reason": ("cancel_reason",),
    "meeting.not_a_working_day": ("meeting_date",),
    "meeting.office_hours": ("meeting_time",),
    "meeting.place_booked": ("meeting_place",),
    "meeting.people_booked": ("meeting_time",),
    "supplement.nothing_missing": ("checklist_missing", "request_missing"),
    "supplement.dismissal_unreasoned": DISMISS_BECAUSE,
    "supplement.dismissal_reason_unasked": DISMISS_BECAUSE,
    "document.empty": FILES,
    "document.too_large": FILES,
    "document.unaccepted_kind": FILES,
    "document.unpacks_too_large": FILES,
    "document.packed_too_tightly": FILES,
    "talk_answer.talk": ("talk",),
    "talk_answer.presenters": ("presenters",),
    "talk_answer.attendees": ("attendees",),
    "talk_attendance.came": ("came",),
    "talk_attendance.presented_by": ("presented_by",),
    "reporting.talk_in_the_past": ("talk_date",),
    "reporting.talk_texts": ("talk_theme", "talk_theme_en", "talk_venue"),
    "reporting.talks_a_year": ("talk_date",),
    "reporting.talk_address": ("talk_address",),
    "reporting.talk_ends": ("talk_ends",),
    "reporting.not_held_yet": ("presented_on",),
    "repayment.amount": ("repayment_amount",),
    "repayment.over_granted": ("repayment_amount",),
    "repayment.reason": ("repayment_reason",),
    "repayment.reason_kind": ("repayment_reason_kind",),
    "repayment.assessment": ("reply_assessment",),
    "repayment.withdrawal_reason": ("withdrawal_reason",),
    "repayment.paid_amount": ("paid_amount",),
    "repayment.paid_on": ("paid_on",),
    "closing.announced_ahead": ("announced_on",),
    "closing.covers_after_announced": ("covers_until",),
    "closing.already_covered": ("covers_until",),
    "closing.appeal_texts": ("{field}",),
    "closing.received_ahead": ("received_on",),
    "closing.received_before_decision": ("received_on",),
    "closing.unknown_ruling": ("ruling",),
    "closing.ruled_ahead": ("ruled_on",),
    "final_report.more_reason": ("more_reason",),
}


def refused_fields(refusal: Exception, posted: dict[str, Any]) -> list[str]:
    """The fields of the refused form that the refusal concerns: its own field for a value
    the office could not read; else those `FIELDS` names that the form posted (of several,
    the ones left empty), or, when it posted none of them (a question left unanswered),
    the fields the refusal names by its parameters."""
    named = getattr(refusal, "field", None)
    if named:
        return [named]
    if not isinstance(refusal, Refused):
        return []
    if refusal.code == "field.invalid":  # the domain's name for the field, if the form's too
        return [refusal.params["field"]] if refusal.params["field"] in posted else []
    patterns = FIELDS.get(refusal.code, ())
    names = [name for pattern in patterns for name in _field_names(pattern, refusal.params)]
    sent = [name for name in names if name in posted]
    empty = [name for name in sent if not posted[name]]
    if sent:
        return empty if len(sent) > 1 and empty else sent
    by_parameters = [pattern for pattern in patterns if "{" in pattern]
    return [name for pattern in by_parameters for name in _field_names(pattern, refusal.params)]


def _field_names(pattern: str, params: dict[str, Any]) -> list[str]:
    """The field names a pattern makes of a refusal's parameters, one per item of a list."""
    if "{" not in pattern:
        return [pattern]
    key = pattern[pattern.index("{") + 1 : pattern.index("}")]
    value = params.get(key)
    items = value if isinstance(value, list | tuple) else [] if value is None else [value]
    return [pattern.replace(f"{{{key}}}", str(getattr(item, "value", item))) for item in items]


def refused_context(refusal: Exception, posted: dict[str, Any]) -> dict[str, Any]:
    """What a page shown again after a refusal says: why at the top (`error`), and why at
    each field the refusal concerns (`field_errors`, by field name), so that the person
    finds what to put right where they type it."""
    said = worded(refusal)
    return {"error": said, "field_errors": dict.fromkeys(refused_fields(refusal, posted), said)}


# The fields a person types into the office's forms, as its labels name them.
FIELD_NAMES = {
    "name": N_("Name"),
    "email": N_("E-mail"),
    "role": N_("Role"),
    "organisation": N_("Organisation"),
    "review_quorum": N_("Quorum"),
    "contact_person": N_("Contact person"),
    "postal_address": N_("Postal address"),
    "postcode": N_("Postcode"),
    "city": N_("City"),
    "phone": N_("Phone"),
    "organisation_number": N_("Organisation number"),
    "bankgiro": N_("Bankgiro"),
    "plusgiro": N_("Plusgiro"),
    "clearing": N_("Clearing number"),
    "account": N_("Account number"),
    "signatory_name": N_("Name of the signatory"),
    "signatory_role": N_("Role in the organisation"),
    "verification": N_("How the change was verified"),
    "reason": N_("Reason"),
    "other_de_minimis_aid": N_("Other de minimis aid"),
}


def shown(name: str, value: Any) -> str:
    """One parameter as the office shows it, in the current language."""
    language = current_language()
    if name == "month_numbers":  # months of the year, as numbers: "July and December"
        months = [MONTHS[language][number - 1] for number in value]
        if not months[1:]:
            return months[0]
        return _("%(first)s and %(last)s") % {"first": ", ".join(months[:-1]), "last": months[-1]}
    if name == "states":  # the states a step is taken in: any one of them
        either = " " + _("or") + " "
        return either.join(_("“%(state)s”") % {"state": label(state)} for state in value)
    if isinstance(value, list | tuple) and all(isinstance(item, Role) for item in value):
        either = " " + _("or") + " "  # any one of the roles
        return either.join(shown(name, role) for role in value)
    if isinstance(value, list | tuple):
        return ", ".join(shown(name, item) for item in value)
    if isinstance(value, Criterion) or (isinstance(value, StrEnum) and type(value) in LABELS):
        return label(value)
    if isinstance(value, datetime):
        return format_datetime(value, language)
    if isinstance(value, date):
        return format_date(value, language)
    if isinstance(value, int) and name in AMOUNTS:
        return format_amount(value, language)
    return str(value)


def words(code: str, params: dict[str, Any]) -> str:
    """A refusal's code and parameters as the office says them, in the current language
    (a field's refusal, `field.invalid`, with the reason it carries worded too)."""
    values = {name: shown(name, value) for name, value in params.items()}
    if "reason_code" in params:
        values["reason"] = words(params["reason_code"], params["reason_params"])
        values["field"] = _(FIELD_NAMES.get(params["field"], params["field"]))
    return _(WORDING[code]) % values


def worded(refusal: Exception) -> str:
    """What the office says of a refusal. A form value the office could not read
    (`UnreadableForm`) was worded by the office already."""
    return words(refusal.code, refusal.params) if isinstance(refusal, Refused) else str(refusal)


def fault_worded(fault: dict[str, Any]) -> str:
    """One field's fault in a refused record of a form export (a `Fault` as the intake
    report has it): the field as the file names it, the value as it came, and why."""
    value = _("(missing)") if fault["value"] is None else quoted(fault["value"])
    return f"{fault['field']} = {value}: {words(fault['code'], fault['params'])}"
