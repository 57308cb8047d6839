"""What customers, agents and the bot say in generated Beacon conversations.

Templates use ``{slot}`` fields filled once per conversation, so every message in a thread
agrees on the project, the amount or the agent's name. The ticket generator's slots
(``{feature}``, ``{amount}``, ``{client_invoice}`` …) work here too; ``SLOT_MAKERS`` adds the
conversation ones. Customer follow-ups are built from several pools (how long they waited,
how they feel, what they demand), so the same mood reads differently every time.

The hard-negative pools pair a question with the agent's answer: they carry the escalation
keywords in harmless senses ("cancel an invitation", "account manager", "legal name").
"""

from __future__ import annotations

from collections.abc import Callable

from frontline.demo.generator import Slots

# --------------------------------------------------------------------------- people

AGENTS = (
    ("Nina", "Park"), ("Omar", "Reyes"), ("Jess", "Whitfield"), ("Tomasz", "Wójcik"),
    ("Aiko", "Mori"), ("Ben", "Adeyemi"), ("Leila", "Farouk"), ("Marco", "Bianchi"),
    ("Sven", "Lindqvist"), ("Priyanka", "Rao"), ("Dara", "Quinn"), ("Felix", "Hartmann"),
)
BOT_NAME = "Beacon Bot"
HELP_CENTRE = "https://help.beacon.example/articles/"
FREEMAIL = ("gmail.example", "outlook.example", "proton.example", "icloud.example")
COMPETITORS = ("Asana", "Monday.com", "ClickUp", "Teamwork", "Wrike", "Harvest", "Productive")
ARTICLES = (
    "api-keys-and-rate-limits", "browser-support-and-cache", "change-account-owner",
    "change-plan", "client-invoices", "export-data-csv", "failed-payments",
    "github-integration", "import-data", "invite-users-and-seats", "invoices-and-receipts",
    "mobile-app-sync", "notifications-and-email", "proration", "quickbooks-sync-errors",
    "recurring-tasks-and-templates", "refund-policy", "remove-users", "slack-integration",
    "sso-saml-setup", "two-factor-authentication", "update-payment-method", "webhooks",
    "request-a-feature", "status-page-and-reporting-bugs", "delete-workspace-or-account",
    "reset-password",
)
# The help article an agent would send for each of the ticket generator's intents.
ARTICLE_FOR = {
    "bug.page_error": "browser-support-and-cache", "bug.mobile": "mobile-app-sync",
    "bug.integration": "slack-integration", "bug.quickbooks": "quickbooks-sync-errors",
    "bug.client_invoice": "client-invoices", "bug.export": "export-data-csv",
    "bug.notifications": "notifications-and-email", "bug.slow": "browser-support-and-cache",
    "bug.api": "webhooks", "bug.recurring": "recurring-tasks-and-templates",
    "bug.outage": "status-page-and-reporting-bugs", "billing.double_charge": "failed-payments",
    "billing.payment_failed": "update-payment-method", "billing.refund": "refund-policy",
    "billing.invoice_docs": "invoices-and-receipts", "billing.proration": "proration",
    "billing.plan_change": "change-plan", "billing.seats": "invite-users-and-seats",
    "billing.cancel": "change-plan", "billing.renewal": "change-plan",
    "billing.checkout_error": "failed-payments",
    "how_to.recurring": "recurring-tasks-and-templates",
    "how_to.invite": "invite-users-and-seats", "how_to.data": "import-data",
    "how_to.invoicing": "client-invoices", "how_to.integrations": "github-integration",
    "how_to.api": "api-keys-and-rate-limits", "how_to.mobile": "mobile-app-sync",
    "how_to.maybe_feature": "request-a-feature", "how_to.plans": "change-plan",
    "account.password": "reset-password", "account.two_factor": "two-factor-authentication",
    "account.locked": "reset-password", "account.sso": "sso-saml-setup",
    "account.owner_email": "change-account-owner", "account.remove_user": "remove-users",
    "account.delete": "delete-workspace-or-account", "account.invite": "invite-users-and-seats",
    "feature.request": "request-a-feature", "feature.integration_gap": "request-a-feature",
}

# --------------------------------------------------------------------------- customer, calm

GREETINGS_CHAT = ("Hi", "Hi there", "Hello", "Hey", "Hi team", "Morning", "Hello Beacon",
                  "Hey there", "", "", "", "")
GREETINGS_EMAIL = ("Hi,", "Hello,", "Dear Beacon Support,", "Hello team,", "Good morning,",
                   "Hi there,")
SIGN_OFFS = ("Thanks,", "Best,", "Cheers,", "Kind regards,", "Thanks again,", "Regards,")

# What customers answer when support asks for details, by topic.
INFO = {
    "bug": (
        "Sure, I'm on {browser}.", "It's the {project} project, in the {workspace} workspace.",
        "Here's the request ID from the error: {req_id}",
        "I've attached a screenshot. It happens every time I {action}.",
        "Tried that already, same result unfortunately.",
        "It's happening for {n_small} people on the team, not just me.",
        "Cleared the cache and tried a private window, no change.",
        "Just tried again, still the same error: {error}",
        "It started around {time} {when_short}.",
        "Screenshot attached. The error shows right after I click \"{button}\".",
    ),
    "billing": (
        "Sure, it's {beacon_invoice}.", "It was charged to our {card} on {date}.",
        "The workspace is {workspace}, we're on {plan_name} with {seats} seats.",
        "Forwarded it just now, receipt {beacon_invoice2}.",
        "It's {beacon_invoice}, and our billing email is {email}.",
    ),
    "account": (
        "It's {email}.", "The workspace is {workspace}.", "Password, we don't use SSO.",
        "Through {idp}.", "It just says \"{error}\" and sends me back to the login page.",
        "Yes, I'm the workspace owner.",
    ),
}
THANKS = (
    "Thanks, that's great!", "Perfect, that worked. Thank you!", "Brilliant, thanks {agent}!",
    "That did it, thanks so much for the quick help.",
    "Great, exactly what I needed. Have a good day!", "Ah, found it. Thanks!",
    "Super helpful, thanks. You can close this.", "Got it, thank you for explaining.",
    "Thanks! Appreciate the help as always.", "Ok great, thanks for letting me know.",
    "Lovely, thank you. That saves me a lot of clicking.", "ty!", "Amazing, thanks!!",
    "Makes sense, thanks {agent}.",
)
THANKS_FIXED = (
    "Works now 🎉 thank you!", "All sorted on our end too. Thanks for the fast work!",
    "Confirmed, it's working again. Thanks to you and the team!",
    "Yes, that fixed it. Thanks, that's great!", "Looks good now, thanks for chasing it.",
    "Back to normal here. Much appreciated!", "Perfect, all working. Have a great weekend!",
)
SMALL_QUESTIONS = (
    "does this also work in the mobile app?", "will the change apply to existing invoices too?",
    "can I undo it later if needed?", "is there a keyboard shortcut for that?",
    "does it count towards our seats?", "can guests see it?",
    "will the QuickBooks sync pick that up?", "is this in the API as well?",
    "does it work for archived projects?", "can I do the same for {client}?",
)
ONE_MORE = (
    "Thanks! One more question while I have you: {small_question}",
    "Sorry, one more thing: {small_question}", "Quick follow-up: {small_question}",
    "Coming back to this: {small_question}", "Also, {small_question}",
)
PATIENT = (
    "No rush on this, just checking it's on your list.",
    "Any news on this? Not urgent, just checking.",
    "Thanks for keeping me posted. Happy to wait.",
    "Just checking in on this one, whenever you have a moment.",
    "We've worked around it for now, so it's not blocking us.",
    "Sorry for the slow reply, I was out for a few days. Still happy to test a fix.",
    "Still seeing it now and then, but it's minor. Let me know if you need anything else.",
    "Thanks for the update! We'll keep an eye out for the fix.",
)
# Several short chat messages in a row, in this order: many replies, nothing wrong.
CHATTY_OPENERS = ("hi!", "hello", "hey there", "quick question", "hi, quick one")
CHATTY_QUESTIONS = ("how do I {missing}?", "is there a way to {missing}?",
                    "can Beacon {missing}?", "where do I find {feature}?")
CHATTY_MORE = (
    "it's for the {project} project", "oh and we're on {plan_name} if that matters",
    "sorry, meant to put that all in one message", "{small_question}",
    "asking for my colleague {person} too", "I'll wait here :)", "thx in advance!",
    "no rush btw",
)

# --------------------------------------------------------------------------- customer, upset

IMPATIENT = (
    "Any update on this?", "Hi, following up on what I sent {first_asked}.",
    "Is anyone looking at this?", "Bumping this, still having the problem.",
    "Hello? Still waiting to hear back.", "Could someone get back to me please? It's been {waited}.",
    "Any news? We're still stuck.", "Just checking this hasn't been forgotten.",
    "Still happening today, by the way.", "Following up again. Is there an ETA?",
    "Hi again. Nothing has changed on our side.",
)
UPSET_OPENINGS = (
    "I'm still waiting on this.", "This is the {nth} time I'm writing about this.",
    "It's been {waited} since I first wrote in and nothing has changed.",
    "I wrote {first_asked} and I still don't have a real answer.", "Still broken.",
    "Your last reply didn't help at all.", "Nobody has actually answered my question yet.",
    "We tried what you suggested. It didn't work.", "Same problem again today.",
    "I've now spent more time on this thread than on actual work.",
)
# Some name the feeling with a keyword, some only show it: the detector should not need both.
UPSET_FEELINGS = (
    "Honestly, this is really frustrating.", "I'm getting very frustrated with this.",
    "This is unacceptable for something we pay {amount} a month for.",
    "We're really disappointed with how this is being handled.", "This is getting ridiculous.",
    "I don't understand why this is taking so long.", "We've lost hours of work because of this.",
    "My team asks me every day when it'll be fixed and I have nothing to tell them.",
    "I'm running out of patience here.", "This is costing us money.",
    "It's getting hard to keep defending Beacon to my team.",
    "Every day this isn't fixed we fall further behind.",
    "Frankly, this is a terrible experience.", "I'm quite angry about this, to be honest.",
)
UPSET_DEMANDS = (
    "I need a proper answer today.", "Please give me a date for a fix.",
    "Please stop sending me help articles and fix it.", "I need someone who can actually fix it.",
    "What exactly is being done about it?", "Please treat this as urgent.",
    "I expect a reply before {deadline_day}.", "", "",
)
THREATS = {
    "cancel": (
        "If this isn't fixed by {deadline_day} we're cancelling.", "I'm cancelling our subscription.",
        "We're done. Please cancel our account at the end of the month.",
        "We've started moving our projects to {competitor}. Cancel the renewal.",
        "Honestly, I'm about to cancel and move the whole team to {competitor}.",
        "Consider this notice: we'll cancel unless someone sorts this out this week.",
        "I've already asked finance to cancel the card we pay you with.",
    ),
    "refund": (
        "I want a full refund for {month}.",
        "Refund the charge today or I'll dispute it with my bank.",
        "We expect a refund for every day we couldn't use Beacon.", "I want my money back.",
        "Refund us now. We're not paying for something that doesn't work.",
        "I'll be asking for a refund of the whole year if this goes on.",
    ),
    "manager": (
        "I want to speak to a manager.", "Please escalate this to your supervisor.",
        "Put me in touch with someone senior, this has gone on long enough.",
        "Who is your manager? I'd like to talk to them directly.",
        "I'd like this escalated to whoever is in charge of support.",
        "Get a manager on this thread, please.",
    ),
    "legal": (
        "Our lawyers will be in touch.", "We're considering legal action over the lost data.",
        "This is a data breach and our legal team is now involved.",
        "If the data isn't restored we'll have to involve our legal counsel.",
    ),
    "churn": (
        "Our renewal is on {renewal_date}. Right now I can't recommend renewing.",
        "We're evaluating {competitor} and this thread is not helping your case.",
        "Worst support experience we've had with any vendor.",
        "I'm putting together the case for leaving Beacon and this thread is exhibit A.",
        "Don't expect us to renew on {renewal_date} if this is how it goes.",
    ),
    # No keyword at all: only the tone, the repetition and the waiting give it away.
    "quiet": (
        "Thanks for nothing.", "This is the last time I'm asking.",
        "Three days without a working product. Three days.",
        "I'll be telling every agency we work with about this.", "I'm done chasing you.",
        "Is anyone there at all??", "Unbelievable.",
    ),
}
# A production-stopping problem: angry from the first message.
URGENT_FEELINGS = (
    "We're losing money every minute this is down.", "This is completely unacceptable.",
    "This is a disaster for us.", "I'm furious, honestly.", "We need someone on this right now.",
    "How is this even possible?", "Our clients are already calling us about it.",
)
URGENT_FOLLOW_UPS = (
    "It's been {waited} and we're still down.", "Still nothing works.",
    "Any update?? {n_big} people are sitting idle.",
    "Your status page still says all systems are operational.",
    "We've now missed a client deadline because of this.", "Hello?? Anyone?",
)
RENEWAL_WORRIES = (
    "Our renewal is coming up on {renewal_date} and this is the kind of thing the team will "
    "bring up.",
    "We're reviewing our tools before the renewal on {renewal_date}, so I'd like this resolved.",
    "Our contract is up on {renewal_date}. I'd like to get this sorted well before then.",
)

# --------------------------------------------------------------------------- hard negatives
# (customer question, agent answer): keywords in their harmless senses.

CANCEL_HOWTO = (
    ("How do I cancel an invitation I sent to the wrong email address?",
     "You can cancel it under Settings > Members > Invited: click ⋯ and choose Revoke."),
    ("Is there a way to cancel a scheduled invoice before it goes out to {client}?",
     "Yes: open the invoice, click Schedule and then Cancel schedule. It goes back to Draft."),
    ("I started an export of {project} by mistake. Can I cancel it or will it just finish?",
     "It will finish on its own in a few minutes; there's no need to cancel it."),
    ("How do I cancel a recurring task without deleting the past ones?",
     "Open the latest one, choose Repeat > Stop repeating. Past tasks stay as they are."),
    ("Our client asked us to cancel {client_invoice}. Should I void it or delete it?",
     "Void it: that keeps the number in sequence and your QuickBooks sync stays consistent."),
    ("What happens to time entries if I cancel a running timer?",
     "Cancelling a timer discards only the running entry; saved entries aren't touched."),
    ("How do I cancel the import? It's been on row {n3} for a while and I uploaded the wrong "
     "file.", "I've cancelled that import for you. You can upload the right file now."),
    ("Where is the button to cancel a timesheet submission? I submitted before adding "
     "Friday's hours.", "Open the timesheet and click Withdraw; that cancels the submission."),
    ("If a meeting is cancelled in Google Calendar, does the linked task move too?",
     "No, the task keeps its due date. Only the calendar event is removed."),
    ("Can a guest cancel their own access, or do I have to remove them?",
     "Guests can leave a project themselves from Profile > Projects, or you can remove them."),
)
# Negations, by what the conversation opened about: (said with the question, said later).
NEGATIONS = {
    "bug": ((
        "Not angry, I promise :) just confused by the new layout.",
        "Not frustrated, just want to make sure it's on your radar.",
    ), (
        "No need to cancel anything, it works now. Thanks!",
        "Never mind, no need to cancel the export, it finished on its own.",
        "No need for a manager or anything, it works again. Thanks!",
        "Please don't cancel the invoice, I found the mistake myself.",
    )),
    "how_to": ((
        "Not frustrated at all, just curious how it works.",
        "No complaints, not disappointed or anything, I just can't find it.",
    ), (
        "No need for a manager or anything, you've answered it. Thanks!",
        "Never mind, I don't need to cancel anything after all, it does what I wanted. Thanks!",
    )),
    "billing": ((
        "I'm not asking for a refund, I just want to understand the charge.",
        "We're not cancelling, don't worry! Just cleaning up old seats.",
        "Not disappointed, just surprised by the number.",
    ), (
        "Ignore my last message, no refund needed, the bank reversed it.",
        "Makes sense now. No refund needed, thanks!",
    )),
}
ROLE_PHRASES = (
    ("Who is our account manager? We'd like to talk about adding {n_small} seats before the "
     "renewal.", "That's {agent2}, your account manager. I've asked them to reach out today."),
    ("Our customer success manager, {person}, mentioned a training session for new users. How "
     "do we book it?", "Here's the booking link for onboarding sessions: {article_url}"),
    ("Can I give someone the project manager role without access to invoices?",
     "Yes, the Project manager role can't see invoices unless you tick Billing access."),
    ("What's the difference between the Manager role and Admin?",
     "Managers run projects and approve timesheets; Admins can also change billing and members."),
    ("Our office manager {person} should be the billing contact from now on.",
     "Done: billing emails now go to {person}."),
    ("Invoices need to show our legal name, not the trading name. Where do I change it?",
     "Under Settings > Billing > Company details; the legal name is used on every new invoice."),
    ("Our legal entity changed after a merger. Can the invoices show the new legal address?",
     "Sure, update it under Settings > Billing and I'll reissue {beacon_invoice} with it."),
    ("Our legal department approved the DPA. Where do I send the signed copy?",
     "You can reply here with the PDF and I'll countersign it."),
    ("How do managers approve timesheets before they're exported?",
     "Managers see an Approve button on each submitted timesheet under Timesheets > Review."),
    ("For legal reasons we must keep invoices for ten years. Are old invoices ever deleted?",
     "Never, unless you delete the workspace. Archived projects keep their invoices too."),
    ("Our line managers want a weekly report of their team's hours. Can that be emailed?",
     "Yes: Reports > Time > Schedule, and pick each manager as a recipient."),
    ("We use a password manager and it stopped autofilling the login form.",
     "We renamed the login fields last week; re-saving the login in your password manager fixes "
     "it."),
)
IN_CONTEXT = (
    ("The wifi on our building sites is terrible, so offline mode matters to us. Does the app "
     "queue changes?", "It does: changes are queued and sync when the phone is back online."),
    ("Worst case we can export to CSV every week, but is there an automatic backup?",
     "There's no scheduled backup yet, but the API can pull everything on a timer."),
    ("Our client was angry about a late invoice, so I need to resend {client_invoice} today. "
     "How do I resend it?", "Open the invoice and choose Send again; it goes out immediately."),
    ("We were a bit disappointed to lose the old reports page, but the new dashboard is growing "
     "on us. Can I still get the weekly PDF?", "Yes, under Reports > Schedule > PDF."),
    ("It's ridiculous how much time Beacon saves us :) Quick one: {small_question}",
     "Glad to hear it! And yes, it does."),
    ("I refunded a client through QuickBooks. Will the sync mark {client_invoice} as refunded "
     "in Beacon?", "Yes, refunds sync back within an hour and the invoice shows Refunded."),
    ("Our client cancelled the {project} project. How do I archive it but keep the invoices?",
     "Project ⋯ > Archive. Invoices and time entries stay in reports."),
    ("A supervisor on site needs to log time for his whole crew. Can one person log time for "
     "others?", "Yes, give them the Manager role and they can log time for their team."),
    ("Can clients cancel or approve estimates from the client portal?",
     "They can approve or decline; declined estimates show up in your inbox."),
)
CALM_CANCELLATIONS = (
    "Please cancel our subscription at the end of this billing period. We've merged with a "
    "company that already uses {competitor}.",
    "We've decided to consolidate on {competitor}, so please don't renew our plan on "
    "{renewal_date}.",
    "Our project wrapped up, so we'd like to cancel at the end of the month.",
    "We're closing the business at the end of the year, so please cancel our plan then.",
)
CALM_CANCEL_KIND = (
    "Thanks for everything, the team really liked Beacon.", "No complaints, it just isn't a fit "
    "any more.", "Could you confirm we keep read-only access until then?",
    "Can we export everything first?",
)
ROUTINE_REFUNDS = (
    "We were charged twice for {month} ({amount} each, receipts {beacon_invoice} and "
    "{beacon_invoice2}). Could you refund one of them?",
    "We removed {n_small} seats right after the renewal. Could those seats be refunded or "
    "credited, whichever is easier?",
    "I upgraded to {other_plan} by accident this morning. Could you switch us back and refund "
    "the difference?",
)

# --------------------------------------------------------------------------- agents

AGENT_GREETINGS = ("Hi {first}!", "Hey {first},", "Hi {first}, thanks for reaching out.",
                   "Hi {first}, {agent} here from Beacon Support.", "Hello {first},", "")
# What agents say about a problem, by topic: ask for details, acknowledge, hold, fix.
ASKS = {
    "bug": (
        "Sorry about that! Could you tell me which browser and device you're using?",
        "Thanks for flagging this. Could you send a screenshot of what you see?",
        "Could you let me know roughly when it last happened, so I can check our logs?",
        "Can you share the project name and roughly when it started?",
        "Would you mind trying in a private window and letting me know if it still happens?",
        "To look into this I'll need the request ID shown under the error message.",
    ),
    "billing": (
        "Sorry about that! Could you send me the invoice or receipt number?",
        "Thanks for flagging this. Which card was charged, and on what date?",
        "Could you tell me the workspace name so I can find the billing account?",
        "Can you forward the receipt email you got from us?",
    ),
    "account": (
        "Could you confirm the email address you log in with?",
        "Which workspace are you trying to get into?",
        "What do you see on the screen right after you log in?",
        "Are you logging in with SSO or with a password?",
    ),
}
ACKS = {
    "bug": (
        "I've reproduced it and passed it to our engineers as {eng_ref}. I'll update you as "
        "soon as I hear back.", "I've shared this with the team that owns this part of Beacon.",
        "I've opened a bug report with our engineers. No timeline yet, but I'll keep you posted.",
        "I can see it on our side too and we're investigating now.",
    ),
    "billing": (
        "Our billing team is checking this now and will get back to you shortly.",
        "I've passed this to billing with all the details.",
        "I can see the charges on our side; billing is reviewing them.",
    ),
    "account": (
        "I've passed this to our accounts team to check the login logs.",
        "Thanks, I'm checking your account's settings now.",
        "I've asked our security team to take a look.",
    ),
}
HOLDS = {
    "bug": (
        "Sorry for the wait! Our engineers are still on it.",
        "No news yet, I'm afraid. I've asked for an update again today.",
        "Thanks for your patience. The fix is in testing and should go out this week.",
        "I've nudged the team again. I know this is taking longer than it should.",
        "Still being worked on; I'll write as soon as it's deployed.",
    ),
    "billing": (
        "Billing is still reviewing this, sorry for the wait.",
        "No answer from billing yet; I've chased them again today.",
        "Still with our finance team, I'll update you as soon as I hear.",
    ),
    "account": (
        "Still looking into this with the accounts team.",
        "Sorry for the wait, the security review takes a little longer.",
        "No news yet; I've asked again today.",
    ),
}
FIXES = {
    "bug": (
        "Good news: a fix went out this morning. Could you refresh and try again?",
        "This should be sorted now. Let me know if you still see it.",
        "Our engineers found the cause and rolled out a fix. Mind checking on your side?",
        "I've fixed the setting on our end, you should be good to go.",
        "That was a caching issue on our side, cleared now. Could you give it another try?",
    ),
    "billing": (
        "I've corrected it; the updated invoice is {beacon_invoice}.",
        "Billing fixed it: the extra charge is refunded and a receipt is on its way.",
        "All sorted: your next invoice will show the right amount.",
    ),
    "account": (
        "I've reset it on our side, you should be able to log in now.",
        "Done, access is restored. Could you try again?",
        "That's fixed now; you may need to log out and back in once.",
    ),
}
# Answers that leave a customer with a problem no better off.
AGENT_DEFLECTIONS = (
    "That isn't possible today, I'm afraid.",
    "This is working as designed, but I'll pass your feedback on.",
    "Could you try clearing your cache and logging in again?",
    "I've checked and everything looks fine on our side.",
    "Here's our help article on that: {article_url}",
)
AGENT_PRODUCT_ACKS = (
    "Thanks for the suggestion! I've passed it to the product team.",
    "Good idea. I've added your vote to the feature request; I'll let you know if it's planned.",
    "That's on our roadmap, but I don't have a date yet. I'll keep this open and update you.",
)
AGENT_PRODUCT_HOLDS = (
    "No news on that one yet, but it's still on the list.",
    "The product team is looking at it for next quarter; I'll keep you posted.",
    "Thanks for checking in! Nothing to share yet.",
)
AGENT_ANSWERS = (
    "Yes! This guide walks through it step by step: {article_url}",
    "Good question! It's covered here: {article_url}",
    "You can, here's how: {article_url}. Let me know if you get stuck!",
    "Sure. The steps are in this article: {article_url}. It only takes a minute.",
    "That isn't possible today, I'm afraid, but I've added your vote to the feature request.",
    "Great question. Short answer: yes. The longer answer, with screenshots: {article_url}",
    "Yes, that works. The first section of {article_url} has exactly that.",
)
AGENT_BILLING = (
    "I've refunded {amount} to your {card}. It usually shows up within 5–10 business days.",
    "Thanks for spotting that. The duplicate charge is refunded and a receipt is on its way.",
    "I've updated the invoice and reissued it as {beacon_invoice}.",
    "The extra charge is the prorated cost of the seats added on {date}; details: {article_url}",
    "Done! The credit will appear on your next invoice.",
)
# What agents say to upset customers; keywords here are the agent's words, not the customer's.
AGENT_APOLOGIES = (
    "I'm really sorry, I completely understand your frustration.",
    "I'm sorry this has been so frustrating. I've escalated it internally.",
    "You're right, this has taken far too long, and I apologise.",
    "I've looped in my manager, {agent2}, who will follow up with you today.",
    "I hear you. I've asked our billing team to look at a refund for the downtime.",
    "I'm sorry. I've flagged this as urgent with engineering.",
)
# Policy answers that do not give the customer what they asked for.
AGENT_POLICIES = (
    "Per our refund policy, annual plans can't be refunded after 14 days: "
    f"{HELP_CENTRE}refund-policy",
    "I've checked with billing and unfortunately that charge is correct, it's for the seats "
    "added on {date}.",
    "I'm afraid we can't refund partial months, but the plan will end at the next renewal.",
    "I understand. I've asked billing to review it; they usually reply within 3–5 business days.",
)
AGENT_CLOSINGS = (
    "I'll close this for now, just reply if anything comes up!", "Glad that helped! Closing "
    "this one.", "Happy to help, have a great day!", "Anytime! I'll mark this as resolved.",
    "Great! I'll close this, but you can reply here any time.",
)
AGENT_CANCEL_CONFIRMS = (
    "Understood, and sorry to see you go. Your plan is set to end on {renewal_date} and you'll "
    "keep access until then.", "Done: the subscription won't renew. You can export your data "
    "any time from Settings > Workspace > Export.",
)

# --------------------------------------------------------------------------- bot

BOT_GREETINGS = (
    "Hi {first} 👋 Thanks for getting in touch! The team typically replies in {reply_time}.",
    "Hello! You're through to Beacon Support. Someone will be with you in {reply_time}.",
    "Thanks for your message! While you wait, you might find the answer in our help centre.",
    "Hi {first}! Got it. A human will pick this up shortly.",
)
BOT_OFFLINE = (
    "Our team is offline right now. We'll be back {back_when} and will reply then.",
    "Thanks! We've got your message and will reply by email within one business day.",
)
BOT_ARTICLES = (
    "These articles might help: {article_url}", "Maybe this helps: {article_url}. Did that "
    "answer your question?", "Here's something from the help centre: {article_url}",
)
BOT_AUTOCLOSE = ("This conversation was closed after {idle_days} days without a reply. Just "
                 "reply to reopen it.",)

# --------------------------------------------------------------------------- notes

NOTES = (
    "Checked the logs: {error} around {time}. Passing to eng.", "Linked to {eng_ref}.",
    "Workspace {workspace} is on {plan_name}, {seats} seats.", "Reproduced on staging.",
    "Pinged {agent2} about this.", "Waiting on the customer for screenshots.",
    "Same as {eng_ref}, added this conversation to it.",
)
# Notes where the agent, not the customer, uses the escalation keywords.
KEYWORD_NOTES = (
    "Customer asked about the cancel button, sent the billing settings article.",
    "Not a cancellation, they only want to cancel a pending invite.",
    "Refund processed in Stripe for {amount}.",
    "Frustrating bug on our side, third report this week. Linked to {eng_ref}.",
    "Manager approval needed for a credit over {amount}? Asked {agent2}.",
    "Short replies but not angry, leaving this at normal priority.",
    "Legal name change request, needs finance to reissue {beacon_invoice}.",
    "Worst case we issue a credit note, but they haven't asked for one.",
    "Renewal-due account; no cancel talk so far, all friendly.",
    "Terrible timing with the release, but the customer is fine with the workaround.",
)

# --------------------------------------------------------------------------- slots


def _agent2(s: Slots) -> str:
    """A colleague of the conversation's agent."""
    names = [first for first, _ in AGENTS if first != s.get("agent")]
    return s.rng.choice(names)


SLOT_MAKERS: dict[str, Callable[[Slots], str]] = {
    "agent2": _agent2,
    "competitor": lambda s: s.rng.choice(COMPETITORS),
    "eng_ref": lambda s: f"ENG-{s.rng.randint(1200, 4800)}",
    "article_url": lambda s: HELP_CENTRE + s.rng.choice(ARTICLES),
    "small_question": lambda s: s.rng.choice(SMALL_QUESTIONS).format_map(s),
    "reply_time": lambda s: s.rng.choice(("a few minutes", "under an hour", "a couple of hours")),
    "idle_days": lambda s: str(s.rng.choice((2, 3, 7))),
}
