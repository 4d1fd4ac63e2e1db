// Interface text in English (en) and Mizo (lus), with a switch in the header.
//
// The chosen language is kept in localStorage ("hubchat.lang"); without a choice the person's
// preferred language from their account is used, then the browser's.  Missing Mizo strings fall
// back to English, missing keys show the key.  {name}-style placeholders are filled by t().
//
// MIZO REVIEW STATUS: DRAFT, written by a non-native speaker.  Every string must be reviewed by a
// native Mizo speaker before release; strings marked "// ?" are the least certain.  Emergency
// strings (sos.*) first.  Keep the keys of both dictionaries in step (a test checks it).

import { bus } from "./state.js";

const en = {
  "nav.label": "Main",
  "nav.skip": "Skip to content",
  "nav.chat": "Chat",
  "nav.associations": "Associations",
  "nav.console": "Duty console",
  "nav.settings": "Settings",
  "nav.login": "Log in",
  "nav.signup": "Sign up",
  "lang.switch": "Switch language to {other}",
  "conn.online": "Online",
  "conn.connecting": "Connecting…",
  "conn.offline": "Offline",
  "common.loading": "Loading…",
  "common.cancel": "Cancel",
  "role.member": "Member",
  "role.officer": "Diaspora Cell officer",
  "role.admin": "Administrator",

  "auth.loginTitle": "Log in",
  "auth.login": "Log in",
  "auth.signupTitle": "Create an account",
  "auth.signup": "Sign up",
  "auth.signupIntro": "We will email you a 6-digit code to check your address.",
  "auth.noAccount": "No account yet?",
  "auth.haveAccount": "Already have an account?",
  "auth.email": "Email",
  "auth.password": "Password",
  "auth.passwordHint": "At least 10 characters.",
  "auth.displayName": "Your name",
  "auth.language": "Language",
  "auth.country": "Country",
  "auth.countryHint": "The country you live in now.",
  "auth.city": "City",
  "auth.phone": "Phone (optional)",
  "auth.phoneHint": "International format, for example +971501234567.",
  "auth.verifyTitle": "Check your email",
  "auth.verifyIntro": "Enter the 6-digit code we sent to your email.",
  "auth.code": "Code",
  "auth.codeHint": "6 digits. The code is valid for 30 minutes.",
  "auth.verify": "Verify",
  "auth.resend": "Send a new code",
  "auth.resent": "If the account exists, a new code is on its way.",

  "settings.title": "Settings",
  "settings.welcome": "Welcome! Please set your SOS PINs now, so you can cancel an SOS later.",
  "settings.profile": "Profile",
  "settings.language": "Preferred language",
  "settings.languageHint": "Used for the interface and for translations of messages.",
  "settings.save": "Save",
  "settings.saved": "Saved.",
  "settings.pins": "SOS PINs",
  "settings.pinsIntro": "You need your SOS PIN to cancel an SOS you sent.",
  "settings.duressIntro": "If someone forces you to cancel, enter the duress PIN instead: the screen shows \"cancelled\", but the Diaspora Cell is told that you are in danger.",
  "settings.sosPin": "SOS PIN",
  "settings.pinHint": "4 to 8 digits.",
  "settings.duressPin": "Duress PIN",
  "settings.duressHint": "4 to 8 digits, different from the SOS PIN.",
  "settings.currentPassword": "Your password",
  "settings.savePins": "Save PINs",
  "settings.pinsSaved": "Your SOS PINs are saved.",
  "settings.pinsAreSet": "Your SOS PINs are set.",
  "settings.logout": "Log out",

  "dir.title": "Associations",
  "dir.searchLabel": "Find associations",
  "dir.anyCountry": "Any country",
  "dir.name": "Name",
  "dir.search": "Search",
  "dir.nearMe": "Near me",
  "dir.locating": "Finding your location…",
  "dir.noGeo": "Your location is not available on this device.",
  "dir.geoDenied": "Location permission was refused.",
  "dir.results": "{n} associations found",
  "dir.results.one": "1 association found",
  "dir.nearResults": "{n} associations near you",
  "dir.nearResults.one": "1 association near you",
  "dir.none": "No associations found.",
  "dir.km": "{km} km away",
  "dir.mine": "My associations",
  "dir.registerLink": "Register an association",
  "dir.notFound": "Association not found",
  "dir.pendingNote": "This association is waiting for approval by the Diaspora Cell.",
  "dir.contacts": "Contacts",
  "dir.email": "Email",
  "dir.phone": "Phone",
  "dir.places": "Gathering places",
  "dir.noPlaces": "No gathering places listed.",
  "dir.openMap": "Open in maps",
  "dir.bearers": "Office bearers",
  "dir.noBearers": "No office bearers listed.",
  "dir.join": "Ask to join",
  "dir.requested": "Your request to join was sent. An office bearer will answer it.",
  "dir.openChat": "Open chat",
  "dir.message": "Message",
  "dir.messageTo": "Message {name}",
  "dir.roleOf": "Role of {name}",
  "dir.positionOf": "Position of {name}",
  "dir.saveMember": "Save",
  "dir.removeMember": "Remove",
  "dir.confirmRemove": "Remove {name} from the association?",
  "dir.memberSaved": "{name}: saved.",
  "dir.memberRemoved": "{name} was removed.",
  "dir.leave": "Leave the association",
  "dir.edit": "Edit the association",
  "dir.saveAssociation": "Save changes",
  "dir.saved": "Saved.",
  "dir.savedForReview": "Saved. The new location waits for the Diaspora Cell's review.",
  "dir.pendingChanges": "Waiting for the Diaspora Cell's review: {where}. Until then alerts use the location in force.",
  "dir.confirmLeave": "Leave {name}? You lose its channels.",
  "dir.left": "You left {name}.",
  "dir.members": "Members",
  "dir.requests": "Requests to join ({n})",
  "dir.accept": "Accept",
  "dir.decline": "Decline",
  "dir.registerTitle": "Register an association",
  "dir.registerIntro": "The Diaspora Cell reviews every new association before it is listed.",
  "dir.description": "Description (optional)",
  "dir.contactEmail": "Contact email",
  "dir.contactEmailHint": "The review decision is sent here.",
  "dir.contactPhone": "Contact phone (optional)",
  "dir.myPosition": "Your position",
  "dir.president": "President",
  "dir.placeLegend": "Gathering place (optional)",
  "dir.placeName": "Place name",
  "dir.placeAddress": "Address",
  "dir.placeSchedule": "When you meet",
  "dir.placeScheduleHint": "For example: Sundays 4 pm.",
  "dir.lat": "Latitude",
  "dir.lon": "Longitude",
  "dir.useLocation": "Use my location",
  "dir.locationFilled": "Location filled in.",
  "dir.placeIncomplete": "A gathering place needs a name, an address, a latitude and a longitude.",
  "dir.showContacts": "Your contacts on the association's page",
  "dir.showContactsHint": "Leave empty what you do not want to show. Choose who may see each one.",
  "dir.myEmail": "Your email",
  "dir.myPhone": "Your phone",
  "dir.visibility": "Who can see it",
  "dir.vis.public": "Everyone",
  "dir.vis.members": "Members only",
  "dir.vis.officers": "Diaspora Cell only",
  "dir.registerSubmit": "Register",
  "dir.registered": "Registered. It will be listed after approval.",
  "dir.status.pending": "Awaiting approval",
  "dir.status.rejected": "Rejected",
  "dir.role.office_bearer": "Office bearer",
  "dir.role.member": "Member",
  "dir.mstatus.active": "active",
  "dir.mstatus.requested": "request sent",
  "dir.mstatus.invited": "invited",
  "dir.kind.email": "Email",
  "dir.kind.phone": "Phone",
  "dir.kind.whatsapp": "WhatsApp",
  "dir.kind.facebook": "Facebook",
  "dir.kind.other": "Other",

  "chat.title": "Chat",
  "chat.channels": "Channels",
  "chat.noChannels": "No channels yet. Join an association to chat with its members.",
  "chat.findAssociation": "Find an association",
  "chat.pick": "Choose a channel.",
  "chat.unread": "{n} unread messages",
  "chat.kind.association": "Association",
  "chat.kind.cell": "With the Diaspora Cell",
  "chat.kind.inter": "Between associations",
  "chat.kind.dm": "Direct message",
  "chat.messages": "Messages",
  "chat.older": "Load older messages",
  "chat.composer": "Write a message",
  "chat.message": "Message",
  "chat.placeholder": "Write a message…",
  "chat.send": "Send",
  "chat.queued": "No connection. The message will be sent when you are back online.",
  "chat.you": "You",
  "chat.edited": "(edited)",
  "chat.deleted": "This message was deleted.",
  "chat.deletedNotice": "Message deleted.",
  "chat.edit": "Edit",
  "chat.editLabel": "Edit your message",
  "chat.save": "Save",
  "chat.delete": "Delete",
  "chat.confirmDelete": "Delete this message for everyone?",
  "chat.showTranslations": "Translations",
  "chat.showTranslation": "Show translation",
  "chat.hideTranslation": "Hide translation",
  "chat.translationTo": "Translation ({lang})",
  "chat.correctedBy": "corrected by {name}",
  "chat.byMember": "translated by a member",
  "chat.notVetted": "not yet checked by a Mizo speaker",
  "chat.similarSentence": "from a similar sentence, may not fit exactly",
  "chat.correct": "Correct translation",
  "chat.correctLabel": "Your better translation",
  "chat.saveCorrection": "Save correction",
  "chat.correctionSaved": "Thank you. Your correction is shown to everyone.",
  "chat.addTranslation": "Add a translation",
  "chat.translating": "Translating…",
  "chat.byPhrasebook": "from the phrasebook",
  "chat.byMachine": "machine translation",
  "chat.trUnavailable": "No translation: there is no Mizo–English model yet. A member may add one.",
  "chat.trPending": "Translation pending: it will follow when the translator has time.",
  "chat.trFailed": "Translation failed: it will be tried again.",
  "chat.sending": "Sending…",
  "chat.waiting": "Waiting for connection…",
  "chat.failed": "Not sent: {reason}",
  "chat.retry": "Retry",
  "chat.discard": "Discard",
  "chat.seenBy": "Seen by {names}",
  "chat.typing": "{names} typing…",
  "chat.online": "Online",
  "chat.offline": "Offline",
  "chat.membersOnline": "{n} members · {online} online",

  "sos.fab": "SOS: get emergency help",
  "sos.title": "Emergency SOS",
  "sos.intro": "The Diaspora Cell's duty officers and nearby office bearers will be alerted with your location.",
  "sos.hold": "Hold to send SOS",
  "sos.holdHint": "Press and hold the button for 1 second.",
  "sos.keepHolding": "Keep holding…",
  "sos.tooShort": "Not sent. Hold for 1 second, or press the confirm button below.",
  "sos.confirmSend": "Yes, send SOS now",
  "sos.addDetails": "Add details (optional)",
  "sos.category": "What is happening?",
  "sos.cat.medical": "Medical",
  "sos.cat.violence": "Violence",
  "sos.cat.exploitation": "Exploitation",
  "sos.cat.detention": "Detention",
  "sos.cat.stranded": "Stranded",
  "sos.cat.other": "Other",
  "sos.note": "Note",
  "sos.localNumbers": "In immediate danger, also call the local emergency number.",
  "sos.signInFirst": "Log in to send an SOS to the Diaspora Cell.",
  "sos.loc.idle": "",
  "sos.loc.waiting": "Finding your location…",
  "sos.loc.ready": "Your location will be sent.",
  "sos.loc.sharing": "Your location will be sent.",
  "sos.loc.denied": "Location is off: the SOS is sent without it.",
  "sos.loc.unavailable": "Location not available: the SOS is sent without it.",
  "sos.sendingTitle": "Sending SOS",
  "sos.sending": "Sending your SOS…",
  "sos.directIntro": "You can also call or text the Diaspora Cell now:",
  "sos.callCell": "Call the Cell ({phone})",
  "sos.textCell": "Text the Cell your location",
  "sos.smsBody": "SOS from {name} (hubchat). I need help. My location: {where}",
  "sos.smsNoLocation": "unknown",
  "sos.sendingOnline": "Connected. Waiting for the server.",
  "sos.sendingOffline": "No connection. Still trying — keep this screen open.",
  "sos.attempts": "Attempts: {n}.",
  "sos.alertTitle": "Your SOS",
  "sos.status.open": "Received. Waiting for an officer.",
  "sos.status.acknowledged": "Acknowledged by {name}. Help is being arranged.",
  "sos.status.responding": "{name} is responding.",
  "sos.status.resolved": "Resolved.",
  "sos.status.false_alarm": "Closed.",
  "sos.status.cancelled": "SOS cancelled.",
  "sos.step.received": "Received",
  "sos.step.acknowledged": "Acknowledged",
  "sos.step.acknowledgedBy": "Acknowledged by {name}",
  "sos.step.responding": "Responding",
  "sos.step.resolved": "Resolved",
  "sos.step.closed": "Closed",
  "sos.done": "done",
  "sos.sharing": "Sharing your live location while the SOS is open.",
  "sos.locDenied": "Location is off. Tell the officer where you are if you can.",
  "sos.locSent": "Your location was sent.",
  "sos.locNone": "No location yet.",
  "sos.viaHttp": "sent without a live connection",
  "sos.keepOpen": "Keep this screen open. Cancel only if you are safe.",
  "sos.cancel": "Cancel SOS",
  "sos.pin": "SOS PIN",
  "sos.pinHint": "The PIN you set in Settings.",
  "sos.cancelConfirm": "Cancel the SOS",
  "sos.keep": "Keep the SOS open",
  "sos.cancelOffline": "No connection. Try again in a moment.",
  "sos.close": "Close",

  "resp.region": "SOS near you",
  "resp.nearYou": "SOS: a person near you needs help",
  "resp.help": "I can help",
  "resp.helpHint": "You will then see their name, phone and location, and the Diaspora Cell sees that you are helping.",
  "resp.helping": "You are helping {name}",
  "resp.dismiss": "Dismiss",

  "console.title": "Duty console",
  "console.only": "Only Diaspora Cell officers can open the duty console.",
  "console.onDuty": "On duty",
  "console.youAreOn": "You are on duty: new alerts sound and flash here.",
  "console.youAreOff": "You are off duty.",
  "console.onDutyNow": "On duty now: {names}",
  "console.notConnected": "not connected",
  "console.notConnectedSince": "not connected since {time}",
  "console.unreachableNote": "Officers not connected for a while are not counted: an SOS then emails the Cell at once.",
  "console.nobodyOnDuty": "Nobody is on duty.",
  "console.openAlerts": "Open alerts",
  "console.noAlerts": "No open alerts.",
  "console.goOnDuty": "Go on duty to see the live alert feed.",
  "console.map": "Map of alerts",
  "console.noTiles": "No map tiles configured: markers are shown on a plain background.",
  "console.mapFailed": "The map could not be loaded; use the list.",
  "console.detail": "Alert details",
  "console.pickAlert": "Choose an alert in the list or on the map.",
  "console.status": "Status",
  "console.history": "Closed alerts",
  "console.historyFilters": "Filter closed alerts",
  "console.historySearch": "Show",
  "console.historyMore": "Older alerts",
  "console.historyNone": "No closed alert matches.",
  "console.allClosed": "All closed",
  "console.anyCategory": "Any category",
  "console.since": "From (day)",
  "console.until": "To (day)",
  "console.category": "Category",
  "console.raised": "Raised",
  "console.ackBy": "Acknowledged by",
  "console.location": "Location",
  "console.noLocation": "no location",
  "console.area": "Area",
  "console.battery": "Battery",
  "console.escalation": "Escalation level",
  "console.duress": "DURESS",
  "console.duressLong": "DURESS: the person entered the duress PIN. Their screen shows \"cancelled\". Treat as highest danger.",
  "console.action.acknowledge": "Acknowledge",
  "console.action.respond": "Responding",
  "console.action.resolve": "Resolved",
  "console.action.false_alarm": "False alarm",
  "console.note": "Note",
  "console.addNote": "Add note",
  "console.timeline": "Timeline",
  "console.audit": "Audit log",
  "console.export": "Export",
  "console.export.json": "Download JSON",
  "console.export.cap": "Download CAP (XML)",
  "console.newAlert": "New SOS: {name} — {category}",
  "console.notifyBody": "Open the console to acknowledge it.",
  "console.waitingTitle": "({n}) SOS waiting — hubchat",
  "console.approvals": "Associations awaiting approval",
  "console.noPending": "No associations are waiting.",
  "console.approve": "Approve",
  "console.reject": "Reject",
  "console.reason": "Reason for rejecting",
  "console.rejectConfirm": "Reject association",
  "console.approved": "{name} approved.",
  "console.rejected": "{name} rejected.",
  "console.registered": "Registered",

  "status.open": "Open",
  "status.acknowledged": "Acknowledged",
  "status.responding": "Responding",
  "status.resolved": "Resolved",
  "status.false_alarm": "False alarm",
  "status.cancelled": "Cancelled",
  "event.created": "SOS raised",
  "event.retriggered": "SOS pressed again",
  "event.dispatch": "Officers and office bearers told",
  "event.status": "Status: {to}",
  "event.note": "Note",
  "event.location": "Location update",
  "event.duress": "Duress PIN entered",
  "event.escalation": "Escalated",
  "event.email_sent": "Email sent",
  "event.email_failed": "Email failed",
  "audit.view": "viewed",
  "audit.timeline": "read the timeline",
  "audit.export_json": "exported (JSON)",
  "audit.export_cap": "exported (CAP)",
  "time.secs": "{n} s ago",
  "time.mins": "{n} min ago",
  "time.hours": "{n} h ago",
  "time.days": "{n} d ago",

  "err.generic": "Something went wrong. Please try again.",
  "err.offline": "No connection. Please try again when you are online.",
  "err.timeout": "The server did not answer in time. Please try again.",
  "err.invalid_payload": "Please check the fields.",
  "err.invalid_credentials": "Wrong email or password.",
  "err.email_unverified": "Please verify your email first.",
  "err.account_disabled": "This account is disabled.",
  "err.email_taken": "An account with this email already exists.",
  "err.code_invalid": "That code is wrong or expired. Ask for a new code.",
  "err.pins_equal": "The SOS PIN and the duress PIN must be different.",
  "err.pins_incomplete": "Give both PINs.",
  "err.pins_not_set": "You have no SOS PINs yet. Tell the officer it was a mistake.",
  "err.wrong_pin": "Wrong PIN.",
  "err.rate_limited": "Too many attempts. Try again in {secs} seconds.",
  "err.not_member": "You are not a member of this channel.",
  "err.not_officer": "Only Diaspora Cell officers can do this.",
  "err.not_allowed": "You are not allowed to do this.",
  "err.alert_closed": "This alert is already closed.",
  "err.invalid_transition": "Someone else changed this alert. It was reloaded.",
  "err.already_member": "You are already a member.",
  "err.already_requested": "You already asked to join.",
  "err.message_deleted": "The message was deleted.",
  "err.not_own_message": "You can only change your own messages.",
  "err.unavailable": "The service is busy. Please try again.",
  "err.session_revoked": "You were logged out.",
  "err.association_not_found": "Association not found.",
  "err.invalid_state": "This cannot be done now.",
  // Issue 12 (web helper): past alerts, channels between associations, gathering places.
  "mine.link": "My past alerts",
  "mine.title": "My past alerts",
  "mine.intro": "Alerts you raised that are closed, as you saw them.",
  "mine.none": "No past alerts to show.",
  "mine.more": "Show older alerts",
  "mine.hide": "Hide my past alerts",
  "mine.hideConfirm": "Hide every past alert from this list, on all your devices? You cannot undo this.",
  "mine.hidden": "Your past alerts are hidden.",
  "mine.hideNote": "Hiding them does not delete the Diaspora Cell's record.",
  "mine.back": "Back to SOS",
  "mine.status.resolved": "Resolved",
  "mine.status.false_alarm": "Closed",
  "mine.status.cancelled": "Cancelled",
  "chan.newLink": "New channel between associations",
  "chan.newTitle": "New channel between associations",
  "chan.newIntro": "Office bearers of the associations you invite will talk here.",
  "chan.notBearer": "Only an office bearer of an approved association can start one.",
  "chan.name": "Channel name",
  "chan.forAssociation": "For the association",
  "chan.create": "Create the channel",
  "chan.created": "Channel created.",
  "chan.manage": "Associations in this channel",
  "chan.notMember": "You are not in this channel.",
  "chan.open": "Open the conversation",
  "chan.members": "Member associations",
  "chan.invited": "Invited, not answered yet",
  "chan.noneInvited": "Nobody invited.",
  "chan.invite": "Invite an association",
  "chan.findAssociation": "Association name",
  "chan.inviteButton": "Invite",
  "chan.inviteName": "Invite {name}",
  "chan.invitedNotice": "{name} is invited.",
  "chan.leave": "Leave for {name}",
  "chan.leaveConfirm": "{name} leaves this channel: its office bearers will no longer see it. Continue?",
  "chan.left": "You left the channel.",
  "chan.invitations": "Invitations to channels",
  "chan.noInvitations": "No invitations waiting.",
  "chan.invitedBy": "Invited by {name}",
  "chan.accepted": "You joined {name}.",
  "chan.declined": "Invitation declined.",
  "chan.unknownAssociation": "An association",
  "dir.addPlace": "Add a place",
  "dir.removePlace": "Remove this place",
  "dir.placesHint": "New or changed places wait for the Diaspora Cell's review; the current ones stay until then.",
  "dir.contactCell": "Contact the Diaspora Cell",
  "dir.contactCellHint": "Write to a Diaspora Cell officer on duty now. In danger, use SOS.",
  "err.no_officer_on_duty": "No Diaspora Cell officer is on duty right now. In danger, use the SOS button.",
  // check-in timer (views/checkin.js) and its origin in the console
  "nav.checkin": "Check-in",
  "checkin.title": "Check-in timer",
  "checkin.intro": "Going somewhere risky? Set a time to check in. If you do not check in with your SOS PIN by then, the Diaspora Cell is alerted with your note and your last location.",
  "checkin.deadline": "Check in within",
  "checkin.inMinutes": "{n}",
  "checkin.note": "Note for the Cell (where, who)",
  "checkin.noteHint": "Sent only if you miss the check-in: then the Cell and the people helping you see it.",
  "checkin.reminder": "Reminder",
  "checkin.remindBefore": "{n} minutes before",
  "checkin.noReminder": "No reminder",
  "checkin.share": "Share my location with the timer",
  "checkin.start": "Start the timer",
  "checkin.started": "Timer started.",
  "checkin.dueAt": "Check in by {time}.",
  "checkin.locationShared": "Your location is attached.",
  "checkin.noLocation": "No location attached.",
  "checkin.updateLocation": "Update my location",
  "checkin.noFix": "Your location could not be found.",
  "checkin.checkIn": "Check in",
  "checkin.pinHint": "Your SOS PIN ends the timer.",
  "checkin.checkedIn": "You checked in at {time}. The timer is stopped.",
  "checkin.missed": "The time ran out. An SOS was sent to the Diaspora Cell.",
  "checkin.reminderNow": "Your check-in time is close. Check in with your SOS PIN.",
  "console.origin": "Origin",
  "console.fromCheckin": "Missed check-in",
  "console.fromCheckinDuress": "Check-in with the duress PIN",
  "console.checkinDue": "check-in was due {time}",
  "console.duressCheckin": "DURESS: the person checked in with the duress PIN. Their screen shows \"checked in\"; nothing was shown to them or to associations. Treat as highest danger.",
  "err.checkin_active": "You already have a timer running.",
  "err.checkin_closed": "This timer has already ended.",
  "err.checkin_not_found": "Timer not found.",
  "err.deadline_out_of_range": "Choose a time between 5 minutes and 72 hours from now.",
  "err.reminder_out_of_range": "The reminder must come after now.",
  // safety profile and trusted contacts (views/safety.js)
  "nav.safety": "Safety",
  "safety.title": "Safety profile and trusted contacts",
  "safety.intro": "What the Diaspora Cell needs to help you fast, and who at home should hear when you press SOS.",
  "safety.profile": "Safety profile",
  "safety.who": "Only Diaspora Cell officers can see it, and only while you have an open SOS or case, or while you share it. Every view is recorded. It is stored encrypted.",
  "safety.homeContacts": "Emergency contacts at home",
  "safety.abroadContacts": "Emergency contacts abroad",
  "safety.contactsHint": "One per line: name, phone, relation.",
  "safety.employer": "Employer",
  "safety.workplace": "Workplace address",
  "safety.agent": "Recruiting agent",
  "safety.passport": "Passport",
  "safety.passportHeldBy": "Who holds your passport",
  "safety.visa": "Visa",
  "safety.visaNotes": "Visa details",
  "safety.medical": "Medical notes",
  "safety.languages": "Languages you speak",
  "safety.languagesHint": "Separated by commas.",
  "safety.passport.with_me": "With me",
  "safety.passport.held_by_employer": "Held by my employer",
  "safety.passport.held_by_agent": "Held by the agent",
  "safety.passport.held_by_other": "Held by someone else",
  "safety.passport.lost": "Lost",
  "safety.passport.unknown": "I don't know",
  "safety.visa.valid": "Valid",
  "safety.visa.expiring": "Ends soon",
  "safety.visa.expired": "Expired",
  "safety.visa.none": "No visa",
  "safety.visa.unknown": "I don't know",
  "safety.save": "Save safety profile",
  "safety.saved": "Your safety profile is saved.",
  "safety.sharing": "Sharing",
  "safety.shared": "Shared with Diaspora Cell officers until you stop it.",
  "safety.sharedUntil": "Shared with Diaspora Cell officers until {until}.",
  "safety.notShared": "Not shared: officers see it only while you have an open SOS or case.",
  "safety.shareFor": "Share for",
  "safety.shareUntilOff": "Until I stop it",
  "safety.share24h": "24 hours",
  "safety.share7d": "7 days",
  "safety.share": "Share with the Cell",
  "safety.stopSharing": "Stop sharing",
  "safety.export": "Download my profile (JSON)",
  "safety.delete": "Delete my profile",
  "safety.deleteConfirm": "Yes, delete it",
  "safety.deleted": "Your safety profile is deleted.",
  "safety.show": "Show safety profile",
  "safety.audited": "Viewing it is recorded in the audit log.",
  "safety.none": "No safety profile is available for this person.",
  "safety.field.employer": "Employer",
  "safety.field.workplace_address": "Workplace",
  "safety.field.recruiting_agent": "Recruiting agent",
  "safety.field.passport_status": "Passport",
  "safety.field.passport_held_by": "Passport held by",
  "safety.field.visa_status": "Visa",
  "safety.field.visa_notes": "Visa details",
  "safety.field.medical_notes": "Medical notes",
  "safety.field.languages": "Languages",
  "safety.field.emergency_contacts_home": "Contacts at home",
  "safety.field.emergency_contacts_abroad": "Contacts abroad",
  "contacts.title": "Trusted contacts",
  "contacts.intro": "They are emailed when you press SOS, when the Cell takes it up, and when it is closed. Each must confirm their address first.",
  "contacts.name": "Name",
  "contacts.email": "Email",
  "contacts.relation": "Relation",
  "contacts.language": "Their language",
  "contacts.mayReceiveLocation": "May receive my location",
  "contacts.add": "Add contact",
  "contacts.added": "Contact added: we emailed them a confirmation link.",
  "contacts.confirmed": "Confirmed",
  "contacts.waiting": "Waiting for confirmation",
  "contacts.locationOn": "Location: shared",
  "contacts.locationOff": "Location: not shared",
  "contacts.remove": "Remove",
  "contacts.removeNamed": "Remove {name}",
  "contacts.full": "You have {n} trusted contacts, the most allowed.",
  "audit.safety_profile": "viewed the safety profile",
  "err.too_many_contacts": "You have the most trusted contacts allowed.",
  "err.contact_exists": "This address is already one of your contacts.",
  // --- cases and reports (issue 14)
  "nav.cases": "Cases",
  "nav.reports": "Reports",
  "cases.title": "Cases",
  "cases.more": "Show more",
  "cases.status": "Status",
  "cases.any": "Any",
  "cases.country": "Country",
  "cases.search": "Person's name",
  "cases.since": "Opened from",
  "cases.until": "Opened until",
  "cases.mine": "Only mine",
  "cases.filter": "Filter",
  "cases.none": "No cases.",
  "cases.person": "Person",
  "cases.owner": "Owner",
  "cases.opened": "Opened",
  "cases.back": "← All cases",
  "cases.caseOf": "Case: {name}",
  "cases.outcome": "Outcome",
  "cases.alert": "Alert",
  "cases.openAlert": "Open the alert",
  "cases.summary": "Summary",
  "cases.save": "Save",
  "cases.takeOver": "Take over this case",
  "cases.notes": "Notes",
  "cases.addNote": "Add note",
  "cases.noteKind": "Kind",
  "cases.noteBody": "Note",
  "cases.reminders": "Follow-up reminders",
  "cases.addReminder": "Add reminder",
  "cases.due": "Due",
  "cases.reminderNote": "What to follow up",
  "cases.referrals": "Referrals",
  "cases.refer": "Send referral",
  "cases.agency": "Partner agency",
  "cases.attach": "Attach",
  "cases.referralNote": "Message to the agency",
  "cases.addAgency": "Add agency",
  "cases.newAgency": "New partner agency",
  "cases.agencyName": "Name",
  "cases.agencyKind": "Kind",
  "cases.agencyEmail": "Email",
  "cases.close": "Close the case",
  "cases.outcomeNote": "Closing note",
  "cases.fromAlert": "Open a case for this alert",
  "case.status.open": "Open",
  "case.status.in_progress": "In progress",
  "case.status.referred": "Referred",
  "case.status.closed": "Closed",
  "case.outcome.safe": "Safe",
  "case.outcome.repatriated": "Repatriated",
  "case.outcome.legal_action": "Legal action",
  "case.outcome.referred_elsewhere": "Referred elsewhere",
  "case.outcome.no_contact": "No contact",
  "case.outcome.declined_help": "Declined help",
  "case.outcome.duplicate": "Duplicate",
  "case.outcome.other": "Other",
  "case.note.call": "Call",
  "case.note.visit": "Visit",
  "case.note.referral": "Referral",
  "case.note.other": "Other",
  "case.reminder.pending": "pending",
  "case.reminder.firing": "due now",
  "case.reminder.fired": "sent",
  "case.reminder.cancelled": "cancelled",
  "case.attach.json": "Alert record (JSON)",
  "case.attach.cap": "Alert record (CAP XML)",
  "case.attach.none": "Nothing",
  "case.agency.mission": "Indian mission",
  "case.agency.police": "Police",
  "case.agency.ngo": "NGO",
  "case.agency.other": "Other",
  "audit.referral_json": "sent to a partner agency (JSON)",
  "audit.referral_cap": "sent to a partner agency (CAP)",
  "reports.title": "Reports",
  "reports.show": "Show",
  "reports.csv": "Download CSV",
  "reports.from": "From",
  "reports.to": "To",
  "reports.country": "Country",
  "reports.total": "Total",
  "reports.unknown": "Unknown",
  "reports.suppressed": "Counts below {k} are shown as “<{k}”, with other cells hidden where needed so they cannot be worked out.",
  "reports.alertsPerMonth": "Alerts and cases per month",
  "reports.alerts": "Alerts",
  "reports.cases": "Cases",
  "reports.ackTime": "Time to acknowledge (seconds)",
  "reports.alertsByCountry": "Alerts by country and month",
  "reports.casesByCountry": "Cases by country and month",
  "reports.ackOverall": "Time to acknowledge over {n} alerts: median {p50} s, 90% within {p90} s.",
  "reports.escalations": "Escalation steps reached",
  "reports.outcomes": "Outcomes of closed cases",
  "reports.step.none": "None",
  "reports.step.t1": "First escalation",
  "reports.step.t2": "Second escalation",
  "mycase.status": "Your case with the Diaspora Cell: {status}",
  "err.case_not_found": "Case not found.",
  "err.case_closed": "This case is closed.",
  "err.invalid_owner": "The owner must be a Cell officer.",
  "err.invalid_due_at": "Choose a time in the future.",
  "err.agency_not_found": "Partner agency not found.",
  "err.no_alert": "This case has no alert to attach.",
  "err.range_too_long": "Choose a shorter period.",
  "err.range_too_busy": "Too many records: choose a shorter period.",
  "err.message_not_found": "Message not found.",
  "err.person_not_found": "Person not found.",

  // views/push.js
  "push.title": "Notifications",
  "push.intro": "The lock screen shows who wrote, not what, unless you allow previews.",
  "push.turnOn": "Turn on notifications on this device",
  "push.turnOff": "Turn off on this device",
  "push.onHere": "Notifications are on for this device.",
  "push.offHere": "Notifications are off for this device.",
  "push.unsupported": "This browser cannot receive notifications.",
  "push.denied": "Notifications are blocked for this site. Allow them in the browser's site settings.",
  "push.failed": "This browser could not reach its push service. Try again later.",
  "push.what": "Notify me about",
  "push.dms": "Direct messages",
  "push.mentions": "Mentions of my name",
  "push.previews": "Show the message text on the lock screen",
  "push.sos": "Every new SOS while I am on duty",
};

const lus = {
  "nav.label": "Ṭhenna pui", // ?
  "nav.skip": "A thupuiah kal nghal rawh", // ?
  "nav.chat": "Titi",
  "nav.associations": "Pawl",
  "nav.console": "Hna thawktu console", // ?
  "nav.settings": "Siamremna", // ?
  "nav.login": "Lut rawh",
  "nav.signup": "Inziak lut rawh",
  "lang.switch": "Ṭawng thlak rawh: {other}",
  "conn.online": "Inzawm",
  "conn.connecting": "Inzawm mek…",
  "conn.offline": "Inzawm lo",
  "common.loading": "Lo nghak lawk rawh…",
  "common.cancel": "Tihtawp",
  "role.member": "Member",
  "role.officer": "Diaspora Cell officer",
  "role.admin": "Admin",

  "auth.loginTitle": "Lut rawh",
  "auth.login": "Lut rawh",
  "auth.signupTitle": "Account siam rawh",
  "auth.signup": "Inziak lut rawh",
  "auth.signupIntro": "I email-ah code nambar 6 kan thawn ang.",
  "auth.noAccount": "Account i la nei lo em?",
  "auth.haveAccount": "Account i nei tawh em?",
  "auth.email": "Email",
  "auth.password": "Password",
  "auth.passwordHint": "Hawrawp 10 tal.", // ?
  "auth.displayName": "I hming",
  "auth.language": "Ṭawng",
  "auth.country": "Ram",
  "auth.countryHint": "Tûna i awmna ram.",
  "auth.city": "Khawpui",
  "auth.phone": "Phone (duh chuan)",
  "auth.phoneHint": "Ram code nen, entirnan +971501234567.",
  "auth.verifyTitle": "I email en rawh",
  "auth.verifyIntro": "I email-a code nambar 6 kan thawn kha ziak lut rawh.",
  "auth.code": "Code",
  "auth.codeHint": "Nambar 6. Minute 30 chhung a hman theih.",
  "auth.verify": "Finfiah rawh", // ?
  "auth.resend": "Code thar thawn rawh",
  "auth.resent": "Account a awm chuan code thar a thawn a ni.",

  "settings.title": "Siamremna", // ?
  "settings.welcome": "Lo lawm e! SOS PIN siam nghal rawh, SOS i sut leh theih nan.", // ?
  "settings.profile": "Ka chanchin",
  "settings.language": "Ṭawng i duh ber",
  "settings.languageHint": "Hmanrua leh thuthawn lehlinna atan hman a ni.", // ?
  "settings.save": "Dahṭha rawh",
  "settings.saved": "Dahṭhat a ni.",
  "settings.pins": "SOS PIN",
  "settings.pinsIntro": "SOS i thawn sut nan i SOS PIN i mamawh ang.", // ?
  "settings.duressIntro": "Mi tu emaw-in SOS sut turin an nawr che chuan duress PIN ziak rawh: screen-ah \"sut a ni\" a lang ang a, Diaspora Cell erawh chuan hlauhawmna i tawk tih an hria ang.", // ?
  "settings.sosPin": "SOS PIN",
  "settings.pinHint": "Nambar 4 aṭanga 8 thleng.",
  "settings.duressPin": "Duress PIN",
  "settings.duressHint": "Nambar 4 aṭanga 8 thleng, SOS PIN nen a inang lo tur.",
  "settings.currentPassword": "I password",
  "settings.savePins": "PIN dahṭha rawh",
  "settings.pinsSaved": "I SOS PIN dahṭhat a ni.",
  "settings.pinsAreSet": "I SOS PIN siam a ni tawh.",
  "settings.logout": "Chhuak rawh",

  "dir.title": "Pawlte",
  "dir.searchLabel": "Pawl zawng rawh",
  "dir.anyCountry": "Ram eng pawh",
  "dir.name": "Hming",
  "dir.search": "Zawng rawh",
  "dir.nearMe": "Ka bul vela",
  "dir.locating": "I awmna hmun zawn mek…",
  "dir.noGeo": "He device-ah hian i awmna hmun hriat theih a ni lo.",
  "dir.geoDenied": "I awmna hmun hriat phalna i pe lo.",
  "dir.results": "Pawl {n} hmuh a ni",
  "dir.results.one": "Pawl 1 hmuh a ni",
  "dir.nearResults": "I bul vela pawl {n}",
  "dir.nearResults.one": "I bul vela pawl 1",
  "dir.none": "Pawl hmuh a ni lo.",
  "dir.km": "km {km} a hla",
  "dir.mine": "Ka pawlte",
  "dir.registerLink": "Pawl inziah lut rawh",
  "dir.notFound": "Pawl hmuh a ni lo",
  "dir.pendingNote": "He pawl hi Diaspora Cell pawmpuina nghak mek a ni.",
  "dir.contacts": "Biak theihna",
  "dir.email": "Email",
  "dir.phone": "Phone",
  "dir.places": "Inkhawmna hmunte",
  "dir.noPlaces": "Inkhawmna hmun ziah a ni lo.",
  "dir.openMap": "Map-ah en rawh",
  "dir.bearers": "Hotute",
  "dir.noBearers": "Hotu ziah an ni lo.",
  "dir.join": "Tel dil rawh", // ?
  "dir.requested": "Tel i dilna thawn a ni. Hotu pakhatin a chhang ang.",
  "dir.openChat": "Titi hawng rawh",
  "dir.message": "Thuthawn rawh", // ?
  "dir.messageTo": "{name} hnenah thu thawn rawh", // ?
  "dir.roleOf": "{name} nihna", // ?
  "dir.positionOf": "{name} hna", // ?
  "dir.saveMember": "Dahṭha rawh", // ?
  "dir.removeMember": "Paih rawh", // ?
  "dir.confirmRemove": "{name} hi pawl aṭangin paih dawn em?", // ?
  "dir.memberSaved": "{name}: dahṭha a ni.", // ?
  "dir.memberRemoved": "{name} paih a ni.", // ?
  "dir.leave": "Pawl chhuahsan rawh", // ?
  "dir.edit": "Pawl siamṭha rawh", // ?
  "dir.saveAssociation": "Danglamna dahṭha rawh", // ?
  "dir.saved": "Dahṭha a ni.", // ?
  "dir.savedForReview": "Dahṭha a ni. Hmun thar hi Diaspora Cell-in an en phawt ang.", // ?
  "dir.pendingChanges": "Diaspora Cell enfiah nghak mek: {where}. Chumi hma chuan hmun hlui hman a ni.", // ?
  "dir.confirmLeave": "{name} i chhuahsan dawn em? A channel-te i hloh ang.", // ?
  "dir.left": "{name} i chhuahsan ta.", // ?
  "dir.members": "Memberte",
  "dir.requests": "Tel dilna ({n})",
  "dir.accept": "Pawm rawh",
  "dir.decline": "Hnawl rawh",
  "dir.registerTitle": "Pawl inziah lut rawh",
  "dir.registerIntro": "Pawl thar reng reng Diaspora Cell-in an en hmasa phawt ang.",
  "dir.description": "Sawifiahna (duh chuan)",
  "dir.contactEmail": "Biak theihna email",
  "dir.contactEmailHint": "Thutlukna hetah hian thawn a ni ang.",
  "dir.contactPhone": "Biak theihna phone (duh chuan)",
  "dir.myPosition": "I nihna",
  "dir.president": "President",
  "dir.placeLegend": "Inkhawmna hmun (duh chuan)",
  "dir.placeName": "Hmun hming",
  "dir.placeAddress": "Address",
  "dir.placeSchedule": "Inkhawm hun",
  "dir.placeScheduleHint": "Entirnan: Pathianni dar 4.",
  "dir.lat": "Latitude",
  "dir.lon": "Longitude",
  "dir.useLocation": "Ka awmna hmun hmang rawh",
  "dir.locationFilled": "Awmna hmun ziah a ni.",
  "dir.placeIncomplete": "Inkhawmna hmun chuan hming, address, latitude leh longitude a mamawh.",
  "dir.showContacts": "Pawl phêkah i biak theihna", // ?
  "dir.showContactsHint": "I tihlan duh loh chu a ruak in dah rawh. Tuin nge an hmuh theih ang thlang rawh.",
  "dir.myEmail": "I email",
  "dir.myPhone": "I phone",
  "dir.visibility": "Tuin nge hmu thei ang",
  "dir.vis.public": "Mi zawng zawng",
  "dir.vis.members": "Memberte chauh",
  "dir.vis.officers": "Diaspora Cell chauh",
  "dir.registerSubmit": "Inziah lut rawh",
  "dir.registered": "Inziah lut a ni. Pawm a nih hnuah a lang ang.",
  "dir.status.pending": "Pawmpuina nghak mek",
  "dir.status.rejected": "Hnawl a ni",
  "dir.role.office_bearer": "Hotu",
  "dir.role.member": "Member",
  "dir.mstatus.active": "member",
  "dir.mstatus.requested": "dilna thawn",
  "dir.mstatus.invited": "sawm",
  "dir.kind.email": "Email",
  "dir.kind.phone": "Phone",
  "dir.kind.whatsapp": "WhatsApp",
  "dir.kind.facebook": "Facebook",
  "dir.kind.other": "Dang",

  "chat.title": "Titi",
  "chat.channels": "Channel-te",
  "chat.noChannels": "Channel i la nei lo. Pawl pakhatah tel la, a memberte nen in titi thei ang.",
  "chat.findAssociation": "Pawl zawng rawh",
  "chat.pick": "Channel thlang rawh.",
  "chat.unread": "Thuthawn chhiar loh {n}",
  "chat.kind.association": "Pawl",
  "chat.kind.cell": "Diaspora Cell nen",
  "chat.kind.inter": "Pawl inkar",
  "chat.kind.dm": "Mimal thuthawn",
  "chat.messages": "Thuthawnte",
  "chat.older": "Thuthawn hlui zawk en rawh",
  "chat.composer": "Thuthawn ziak rawh",
  "chat.message": "Thuthawn",
  "chat.placeholder": "Thuthawn ziak rawh…",
  "chat.send": "Thawn rawh",
  "chat.queued": "Inzawmna a awm lo. Inzawmna a awm leh veleh thawn a ni ang.",
  "chat.you": "Nang",
  "chat.edited": "(siamṭhat)",
  "chat.deleted": "He thuthawn hi paih a ni.",
  "chat.deletedNotice": "Thuthawn paih a ni.",
  "chat.edit": "Siamṭha",
  "chat.editLabel": "I thuthawn siamṭha rawh",
  "chat.save": "Dahṭha rawh",
  "chat.delete": "Paih rawh",
  "chat.confirmDelete": "He thuthawn hi mi zawng zawng tan paih nge?",
  "chat.showTranslations": "Lehlinte",
  "chat.showTranslation": "Lehlin en rawh",
  "chat.hideTranslation": "Lehlin thup rawh",
  "chat.translationTo": "Lehlin ({lang})",
  "chat.correctedBy": "{name}-in a siamṭha",
  "chat.byMember": "member pakhatin a letling", // ?
  "chat.notVetted": "Mizo ṭawng thiamin a la en fiah lo", // ?
  "chat.similarSentence": "thu inang deuh atanga lak, a dik vek lo thei", // ?
  "chat.correct": "Lehlin siamṭha rawh",
  "chat.correctLabel": "Lehlin ṭha zawk",
  "chat.saveCorrection": "Siamṭhatna dahṭha rawh",
  "chat.correctionSaved": "Ka lawm e. I siamṭhatna mi zawng zawngin an hmu ang.",
  "chat.addTranslation": "Lehlin belh rawh",
  "chat.translating": "Lehlin mek…",
  "chat.byPhrasebook": "thumal bu aṭanga lehlin", // ?
  "chat.byMachine": "khawl lehlin", // ?
  "chat.trUnavailable": "Lehlin a awm lo: Mizo–English lehlinna model a la awm lo. Member-in a belh thei.", // ?
  "chat.trPending": "Lehlin nghah mek: a hun remchânga lo lang ang.", // ?
  "chat.trFailed": "Lehlin a hlawhchham: han tih nawn leh a ni ang.", // ?
  "chat.sending": "Thawn mek…",
  "chat.waiting": "Inzawmna nghak mek…",
  "chat.failed": "Thawn a ni lo: {reason}",
  "chat.retry": "Ti nawn rawh",
  "chat.discard": "Paih rawh",
  "chat.seenBy": "{names}-in an hmu tawh",
  "chat.typing": "{names} a ziak mek…",
  "chat.online": "Online",
  "chat.offline": "Offline",
  "chat.membersOnline": "Member {n} · {online} online",

  "sos.fab": "SOS: ṭanpuina hmanhmawh dil rawh",
  "sos.title": "SOS hmanhmawh",
  "sos.intro": "Diaspora Cell hna thawktute leh i bul vela pawl hotute hnenah i awmna hmun nen hriattir an ni ang.",
  "sos.hold": "SOS thawn turin hmet reng rawh",
  "sos.holdHint": "Button hi second 1 chhung hmet reng rawh.",
  "sos.keepHolding": "Hmet reng rawh…",
  "sos.tooShort": "Thawn a ni lo. Second 1 chhung hmet reng rawh, a nih loh leh a hnuaia button hmet rawh.",
  "sos.confirmSend": "Aw, SOS thawn nghal rawh",
  "sos.addDetails": "Chanchin dang (duh chuan)",
  "sos.category": "Eng nge thleng?",
  "sos.cat.medical": "Damlohna",
  "sos.cat.violence": "Tharum thawhna",
  "sos.cat.exploitation": "Hmanchawpna", // ?
  "sos.cat.detention": "Man/tân", // ?
  "sos.cat.stranded": "Kawng boral", // ?
  "sos.cat.other": "Dang",
  "sos.note": "Thu dang",
  "sos.localNumbers": "Hlauhawmna i tawk nghal a nih chuan, hmun emergency number pawh call rawh.",
  "sos.signInFirst": "Diaspora Cell hnena SOS thawn turin lut rawh.",
  "sos.loc.idle": "",
  "sos.loc.waiting": "I awmna hmun zawn mek…",
  "sos.loc.ready": "I awmna hmun thawn a ni ang.",
  "sos.loc.sharing": "I awmna hmun thawn a ni ang.",
  "sos.loc.denied": "Location a off: SOS chu a tel lovin thawn a ni ang.",
  "sos.loc.unavailable": "Location hriat a ni lo: SOS chu a tel lovin thawn a ni ang.",
  "sos.sendingTitle": "SOS thawn mek",
  "sos.sending": "I SOS thawn mek…",
  "sos.directIntro": "Diaspora Cell hnenah tunah call emaw text emaw i thawn thei bawk:", // ?
  "sos.callCell": "Cell call rawh ({phone})", // ?
  "sos.textCell": "Cell hnenah i awmna text rawh", // ?
  "sos.smsBody": "SOS {name} hnen aṭangin (hubchat). Ṭanpuina ka mamawh. Ka awmna: {where}", // ?
  "sos.smsNoLocation": "hriat loh", // ?
  "sos.sendingOnline": "Inzawm. Server nghak mek.",
  "sos.sendingOffline": "Inzawmna a awm lo. Kan la thawn zel — he screen hi hawng reng rawh.",
  "sos.attempts": "Vawi {n} tih.",
  "sos.alertTitle": "I SOS",
  "sos.status.open": "Dawn a ni. Officer nghak mek.",
  "sos.status.acknowledged": "{name}-in a hria. Ṭanpuina buatsaih mek a ni.", // ?
  "sos.status.responding": "{name}-in a ṭanpui mek.",
  "sos.status.resolved": "Tihfel a ni.",
  "sos.status.false_alarm": "Khar a ni.",
  "sos.status.cancelled": "SOS sut a ni.", // ?
  "sos.step.received": "Dawn a ni",
  "sos.step.acknowledged": "Hriat a ni", // ?
  "sos.step.acknowledgedBy": "{name}-in a hria", // ?
  "sos.step.responding": "Ṭanpui mek",
  "sos.step.resolved": "Tihfel a ni",
  "sos.step.closed": "Khar a ni",
  "sos.done": "zo",
  "sos.sharing": "SOS a hawn chhung zawng i awmna hmun kan thawn reng ang.",
  "sos.locDenied": "Location a off. I theih chuan officer hnenah i awmna hrilh rawh.",
  "sos.locSent": "I awmna hmun thawn a ni.",
  "sos.locNone": "Awmna hmun a la awm lo.",
  "sos.viaHttp": "inzawmna nung awm lovin thawn",
  "sos.keepOpen": "He screen hi hawng reng rawh. I him tawh chauhvin sut rawh.",
  "sos.cancel": "SOS sut rawh", // ?
  "sos.pin": "SOS PIN",
  "sos.pinHint": "Siamremnaa PIN i siam kha.",
  "sos.cancelConfirm": "SOS sut rawh", // ?
  "sos.keep": "SOS hawng reng rawh",
  "sos.cancelOffline": "Inzawmna a awm lo. Rei lo te ah ti leh rawh.",
  "sos.close": "Khar rawh",

  "resp.region": "I bul vela SOS",
  "resp.nearYou": "SOS: i bul vela mi pakhatin ṭanpuina a mamawh",
  "resp.help": "Ka ṭanpui thei",
  "resp.helpHint": "A hming, a phone leh a awmna hmun i hmu ang a, Diaspora Cell-in i ṭanpui mek tih an hria ang.",
  "resp.helping": "{name} i ṭanpui mek",
  "resp.dismiss": "Thup rawh", // ?

  "console.title": "Hna thawktu console", // ?
  "console.only": "Diaspora Cell officer-te chauhin he console hi an hawng thei.",
  "console.onDuty": "Hna thawk mek",
  "console.youAreOn": "Hna i thawk mek: SOS thar a ri ang a, a eng ang.",
  "console.youAreOff": "Hna i thawk lo.",
  "console.onDutyNow": "Tûna hna thawk mek: {names}",
  "console.notConnected": "a inzawm lo",
  "console.notConnectedSince": "{time} atang a inzawm lo",
  "console.unreachableNote": "Officer rei tak inzawm lo chu chhiar tel an ni lo: SOS a lo awm chuan Cell hnenah email a kal nghal ang.",
  "console.nobodyOnDuty": "Tumah hna an thawk lo.",
  "console.openAlerts": "SOS hawng mekte",
  "console.noAlerts": "SOS hawng a awm lo.",
  "console.goOnDuty": "SOS thar hmu turin hna thawk tan rawh.",
  "console.map": "SOS map",
  "console.noTiles": "Map tile a awm lo: marker-te chu background mawl chungah a lang.",
  "console.mapFailed": "Map a lang thei lo; list hmang rawh.",
  "console.detail": "SOS chanchin",
  "console.pickAlert": "List emaw map aṭangin SOS thlang rawh.",
  "console.status": "Dinhmun",
  "console.history": "SOS khar tawhte", // ?
  "console.historyFilters": "SOS khar tawhte thlihthlai rawh", // ?
  "console.historySearch": "Entir rawh", // ?
  "console.historyMore": "A hmaa SOS-te", // ?
  "console.historyNone": "SOS khar tawh inmil a awm lo.", // ?
  "console.allClosed": "Khar tawh zawng zawng", // ?
  "console.anyCategory": "Eng chi pawh", // ?
  "console.since": "Ni (aṭangin)", // ?
  "console.until": "Ni (thleng)", // ?
  "console.category": "A chi",  // ?
  "console.raised": "Thawn hun",
  "console.ackBy": "A hriattu",
  "console.location": "Awmna hmun",
  "console.noLocation": "awmna hmun a awm lo",
  "console.area": "Bial",
  "console.battery": "Battery",
  "console.escalation": "Escalation level",
  "console.duress": "DURESS",
  "console.duressLong": "DURESS: he mi hian duress PIN a ziak. A screen-ah \"sut a ni\" a lang. Hlauhawm ber angin ngai rawh.",
  "console.action.acknowledge": "Hriat a ni", // ?
  "console.action.respond": "Ṭanpui mek",
  "console.action.resolve": "Tihfel a ni",
  "console.action.false_alarm": "SOS dik lo",
  "console.note": "Thu dang",
  "console.addNote": "Thu dang belh rawh",
  "console.timeline": "A thlen dan",
  "console.audit": "Entute chanchin", // ?
  "console.export": "Export",
  "console.export.json": "JSON download rawh",
  "console.export.cap": "CAP (XML) download rawh",
  "console.newAlert": "SOS thar: {name} — {category}",
  "console.notifyBody": "Pawm turin console hi hawng rawh.", // ?
  "console.waitingTitle": "({n}) SOS nghak mek — hubchat", // ?
  "console.approvals": "Pawmpuina nghak pawlte",
  "console.noPending": "Pawmpuina nghak pawl an awm lo.",
  "console.approve": "Pawm rawh",
  "console.reject": "Hnawl rawh",
  "console.reason": "Hnawl chhan",
  "console.rejectConfirm": "Pawl hnawl rawh",
  "console.approved": "{name} pawm a ni.",
  "console.rejected": "{name} hnawl a ni.",
  "console.registered": "Inziah lut hun",

  "status.open": "Hawng",
  "status.acknowledged": "Hriat a ni", // ?
  "status.responding": "Ṭanpui mek",
  "status.resolved": "Tihfel a ni",
  "status.false_alarm": "SOS dik lo",
  "status.cancelled": "Sut a ni", // ?
  "event.created": "SOS thawn a ni",
  "event.retriggered": "SOS hmet leh a ni",
  "event.dispatch": "Officer leh hotute hriattir an ni",
  "event.status": "Dinhmun: {to}",
  "event.note": "Thu dang",
  "event.location": "Awmna hmun thar",
  "event.duress": "Duress PIN ziah a ni",
  "event.escalation": "Escalate a ni",
  "event.email_sent": "Email thawn a ni",
  "event.email_failed": "Email thawn theih a ni lo",
  "audit.view": "a en",
  "audit.timeline": "a thlen dan a chhiar",
  "audit.export_json": "export (JSON)",
  "audit.export_cap": "export (CAP)",
  "time.secs": "second {n} liam ta",
  "time.mins": "minute {n} liam ta",
  "time.hours": "dârkar {n} liam ta",
  "time.days": "ni {n} liam ta",

  "err.generic": "Harsatna a awm. Ti nawn leh rawh.",
  "err.offline": "Inzawmna a awm lo. Inzawmna i neih hunah ti leh rawh.",
  "err.timeout": "Server-in a chhang hman lo. Ti nawn leh rawh.",
  "err.invalid_payload": "I ziahte en ṭha leh rawh.",
  "err.invalid_credentials": "Email emaw password a dik lo.",
  "err.email_unverified": "I email finfiah hmasa rawh.",
  "err.account_disabled": "He account hi tihtawp a ni.",
  "err.email_taken": "He email hmang hian account a awm tawh.",
  "err.code_invalid": "Code a dik lo emaw a hun a tawp. Code thar dil rawh.",
  "err.pins_equal": "SOS PIN leh duress PIN a inang tur a ni lo.",
  "err.pins_incomplete": "PIN pahnih ziak rawh.",
  "err.pins_not_set": "SOS PIN i la nei lo. Officer hnenah dik lo a ni tih hrilh rawh.",
  "err.wrong_pin": "PIN a dik lo.",
  "err.rate_limited": "I tih tam lutuk. Second {secs} hnuah ti leh rawh.",
  "err.not_member": "He channel-ah hian member i ni lo.",
  "err.not_officer": "Diaspora Cell officer-te chauhin an ti thei.",
  "err.not_allowed": "Hei hi i ti thei lo.",
  "err.alert_closed": "He SOS hi khar a ni tawh.",
  "err.invalid_transition": "Mi dangin he SOS hi an thlak. Lak thar a ni.",
  "err.already_member": "Member i ni tawh.",
  "err.already_requested": "Tel i dil tawh.",
  "err.message_deleted": "Thuthawn paih a ni.",
  "err.not_own_message": "I thuthawn ngei chauh i thlak thei.",
  "err.unavailable": "Service a buai. Ti nawn leh rawh.",
  "err.session_revoked": "Chhuah tir i ni.",
  "err.association_not_found": "Pawl hmuh a ni lo.",
  "err.invalid_state": "Tûnah hian tih theih a ni lo.",
  // Issue 12 (web helper): DRAFT Mizo, every line to be reviewed by a native speaker.
  "mine.link": "Ka SOS hmasate", // ?
  "mine.title": "Ka SOS hmasate", // ?
  "mine.intro": "SOS i tih tawh, khar tawhte, i hmuh ang ngeiin.", // ?
  "mine.none": "SOS hmasa lantir tur a awm lo.", // ?
  "mine.more": "A hlui zawk lantir rawh", // ?
  "mine.hide": "Ka SOS hmasate thup rawh", // ?
  "mine.hideConfirm": "I device zawng zawngah SOS hmasa zawng zawng thup i duh em? Tihkir theih a ni lo.", // ?
  "mine.hidden": "I SOS hmasate thup a ni.", // ?
  "mine.hideNote": "Thup hian Diaspora Cell record a paih lo.", // ?
  "mine.back": "SOS-ah kir leh rawh", // ?
  "mine.status.resolved": "Chinfel a ni", // ?
  "mine.status.false_alarm": "Khar a ni", // ?
  "mine.status.cancelled": "Tihtawp a ni", // ?
  "chan.newLink": "Pawl inkar channel thar", // ?
  "chan.newTitle": "Pawl inkar channel thar", // ?
  "chan.newIntro": "I sawm pawlte hotute hetah hian an inbia ang.", // ?
  "chan.notBearer": "Pawl pawm tawh hotu chauhin an ṭan thei.", // ?
  "chan.name": "Channel hming", // ?
  "chan.forAssociation": "Pawl tan", // ?
  "chan.create": "Channel siam rawh", // ?
  "chan.created": "Channel siam a ni.", // ?
  "chan.manage": "He channel-a pawlte", // ?
  "chan.notMember": "He channel-ah hian i awm lo.", // ?
  "chan.open": "Inbiakna hawng rawh", // ?
  "chan.members": "Member pawlte", // ?
  "chan.invited": "Sawm, la chhang lo", // ?
  "chan.noneInvited": "Tumah sawm an la ni lo.", // ?
  "chan.invite": "Pawl sawm rawh", // ?
  "chan.findAssociation": "Pawl hming", // ?
  "chan.inviteButton": "Sawm rawh", // ?
  "chan.inviteName": "{name} sawm rawh", // ?
  "chan.invitedNotice": "{name} sawm a ni.", // ?
  "chan.leave": "{name} tan chhuahsan rawh", // ?
  "chan.leaveConfirm": "{name} chuan he channel hi a chhuahsan ang: a hotuten an hmu thei tawh lo ang. I duh em?", // ?
  "chan.left": "Channel i chhuahsan ta.", // ?
  "chan.invitations": "Channel sawmna", // ?
  "chan.noInvitations": "Sawmna nghak a awm lo.", // ?
  "chan.invitedBy": "{name} in a sawm", // ?
  "chan.accepted": "{name} i zawm ta.", // ?
  "chan.declined": "Sawmna i hnawl ta.", // ?
  "chan.unknownAssociation": "Pawl pakhat", // ?
  "dir.addPlace": "Hmun belh rawh", // ?
  "dir.removePlace": "He hmun hi paih rawh", // ?
  "dir.placesHint": "Hmun thar emaw thlak emaw chu Diaspora Cell-in an en hmasa ang; chutih hun chhung chu a hlui kha a la awm ang.", // ?
  "dir.contactCell": "Diaspora Cell biak rawh", // ?
  "dir.contactCellHint": "Diaspora Cell officer duty-a awm mekte hnenah thu thawn rawh. Hlauhawm hunah SOS hmang rawh.", // ?
  "err.no_officer_on_duty": "Tunah hian Diaspora Cell officer duty-a awm an awm lo. Hlauhawm hunah SOS hmang rawh.", // ?
  // check-in timer (views/checkin.js) and its origin in the console
  "nav.checkin": "Check-in", // ?
  "checkin.title": "Check-in hun tiamna", // ?
  "checkin.intro": "Hmun hlauhawm lamah i kal em? Check-in hun ruat rawh. Chumi hma-a i SOS PIN hmanga check-in i tih loh chuan Diaspora Cell hnenah i thuziak leh i awmna hnuhnung ber nen hriattir an ni ang.", // ?
  "checkin.deadline": "Hemi chhungin check-in rawh", // ?
  "checkin.inMinutes": "{n}",
  "checkin.note": "Cell tan thuziak (khawi hmunah, tu nen)", // ?
  "checkin.noteHint": "Check-in i tih loh chauhin thawn a ni ang: Cell leh tanpuitu-te'n an hmu ang.", // ?
  "checkin.reminder": "Hriat nawn tirna", // ?
  "checkin.remindBefore": "Minute {n} hmain", // ?
  "checkin.noReminder": "Hriat nawn tirna tel lo", // ?
  "checkin.share": "Ka awmna timer-ah hian telh rawh", // ?
  "checkin.start": "Timer tan rawh", // ?
  "checkin.started": "Timer a tan ta.", // ?
  "checkin.dueAt": "{time} hmain check-in rawh.", // ?
  "checkin.locationShared": "I awmna telh a ni.", // ?
  "checkin.noLocation": "I awmna telh a ni lo.", // ?
  "checkin.updateLocation": "Ka awmna thlak rawh", // ?
  "checkin.noFix": "I awmna hmuh theih a ni lo.", // ?
  "checkin.checkIn": "Check-in rawh", // ?
  "checkin.pinHint": "I SOS PIN-in timer a titawp ang.", // ?
  "checkin.checkedIn": "{time}-ah check-in i ti. Timer a tawp ta.", // ?
  "checkin.missed": "Hun a tawp ta. Diaspora Cell hnenah SOS thawn a ni.", // ?
  "checkin.reminderNow": "I check-in hun a hnai tawh. I SOS PIN hmangin check-in rawh.", // ?
  "console.origin": "A chhuahna", // ?
  "console.fromCheckin": "Check-in tihloh", // ?
  "console.fromCheckinDuress": "Duress PIN hmanga check-in", // ?
  "console.checkinDue": "check-in hun {time}", // ?
  "console.duressCheckin": "DURESS: he mi hian duress PIN hmangin check-in a ti. A screen-ah \"check-in a ni\" a lang; amah leh pawl-te hnenah engmah lan a ni lo. Hlauhawm ber angin ngai rawh.", // ?
  "err.checkin_active": "Timer i nei tawh.", // ?
  "err.checkin_closed": "He timer hi a tawp tawh.", // ?
  "err.checkin_not_found": "Timer hmuh a ni lo.", // ?
  "err.deadline_out_of_range": "Tûn atanga minute 5 leh darkar 72 inkar hun thlang rawh.", // ?
  "err.reminder_out_of_range": "Hriat nawn tirna hi tûn hnuah a ni tur a ni.", // ?
  // safety profile and trusted contacts (views/safety.js): to be reviewed by a Mizo speaker
  "nav.safety": "Himna", // ?
  "safety.title": "Himna chanchin leh mi rintlak", // ?
  "safety.intro": "Diaspora Cell-in an ṭanpui thuai theih nan an mamawh te, leh SOS i hmet hunah in lama hriattir tur te.", // ?
  "safety.profile": "Himna chanchin", // ?
  "safety.who": "Diaspora Cell officer-te chauhin an hmu thei, SOS emaw case emaw a hawn laiin, emaw i hriattir laiin. En apiang chhinchhiah a ni. Encrypt-in dahṭhat a ni.", // ?
  "safety.homeContacts": "In lama biak tur", // ?
  "safety.abroadContacts": "Ram danga biak tur", // ?
  "safety.contactsHint": "Tlar khatah pakhat: hming, phone, inlaichinna.", // ?
  "safety.employer": "Hnathawhtirtu", // ?
  "safety.workplace": "Hnathawhna hmun", // ?
  "safety.agent": "Agent", // ?
  "safety.passport": "Passport",
  "safety.passportHeldBy": "I passport kengtu", // ?
  "safety.visa": "Visa",
  "safety.visaNotes": "Visa chanchin", // ?
  "safety.medical": "Damdawi lam", // ?
  "safety.languages": "Ṭawng i thiam te", // ?
  "safety.languagesHint": "Comma-in then rawh.", // ?
  "safety.passport.with_me": "Ka kengin", // ?
  "safety.passport.held_by_employer": "Hnathawhtirtuin a keng", // ?
  "safety.passport.held_by_agent": "Agent-in a keng", // ?
  "safety.passport.held_by_other": "Mi dangin a keng", // ?
  "safety.passport.lost": "A bo", // ?
  "safety.passport.unknown": "Ka hre lo", // ?
  "safety.visa.valid": "A la dik", // ?
  "safety.visa.expiring": "A tawp dawn", // ?
  "safety.visa.expired": "A tawp tawh", // ?
  "safety.visa.none": "Visa ka nei lo", // ?
  "safety.visa.unknown": "Ka hre lo", // ?
  "safety.save": "Himna chanchin dahṭha rawh", // ?
  "safety.saved": "I himna chanchin dahṭhat a ni.", // ?
  "safety.sharing": "Hriattirna", // ?
  "safety.shared": "I tihtawp hma loh chu Diaspora Cell officer-te hriattir a ni.", // ?
  "safety.sharedUntil": "{until} thleng Diaspora Cell officer-te hriattir a ni.", // ?
  "safety.notShared": "Hriattir a ni lo: SOS emaw case emaw a hawn laiin chauh officer-ten an hmu.", // ?
  "safety.shareFor": "Hriattir chhung", // ?
  "safety.shareUntilOff": "Ka tihtawp hma loh chu", // ?
  "safety.share24h": "Darkar 24", // ?
  "safety.share7d": "Ni 7", // ?
  "safety.share": "Cell hriattir rawh", // ?
  "safety.stopSharing": "Hriattir tawh suh", // ?
  "safety.export": "Ka chanchin la chhuak rawh (JSON)", // ?
  "safety.delete": "Ka chanchin paih rawh", // ?
  "safety.deleteConfirm": "Aw, paih rawh", // ?
  "safety.deleted": "I himna chanchin paih a ni.", // ?
  "safety.show": "Himna chanchin en rawh", // ?
  "safety.audited": "I en chu audit log-ah chhinchhiah a ni ang.", // ?
  "safety.none": "He mi tan himna chanchin a awm lo.", // ?
  "safety.field.employer": "Hnathawhtirtu", // ?
  "safety.field.workplace_address": "Hnathawhna hmun", // ?
  "safety.field.recruiting_agent": "Agent", // ?
  "safety.field.passport_status": "Passport",
  "safety.field.passport_held_by": "Passport kengtu", // ?
  "safety.field.visa_status": "Visa",
  "safety.field.visa_notes": "Visa chanchin", // ?
  "safety.field.medical_notes": "Damdawi lam", // ?
  "safety.field.languages": "Ṭawng", // ?
  "safety.field.emergency_contacts_home": "In lama biak tur", // ?
  "safety.field.emergency_contacts_abroad": "Ram danga biak tur", // ?
  "contacts.title": "Mi rintlak", // ?
  "contacts.intro": "SOS i hmet hunah te, Cell-in an lâk hunah te, a khar hunah te email an dawng ang. An email an finfiah hmasa phawt tur a ni.", // ?
  "contacts.name": "Hming",
  "contacts.email": "Email",
  "contacts.relation": "Inlaichinna", // ?
  "contacts.language": "An ṭawng", // ?
  "contacts.mayReceiveLocation": "Ka awmna an hre thei", // ?
  "contacts.add": "Belh rawh", // ?
  "contacts.added": "Belh a ni: finfiahna link kan thawn e.", // ?
  "contacts.confirmed": "Finfiah a ni", // ?
  "contacts.waiting": "Finfiah nghak mek", // ?
  "contacts.locationOn": "Awmna: hriattir", // ?
  "contacts.locationOff": "Awmna: hriattir lo", // ?
  "contacts.remove": "Paih rawh", // ?
  "contacts.removeNamed": "{name} paih rawh", // ?
  "contacts.full": "Mi rintlak {n} i nei tawh, a tam thei ber.", // ?
  "audit.safety_profile": "himna chanchin a en", // ?
  "err.too_many_contacts": "Mi rintlak i neih theih zat i nei tawh.", // ?
  "err.contact_exists": "He email hi i mi rintlak zingah a awm tawh.", // ?
  // --- cases and reports (issue 14)
  "nav.cases": "Case-te", // ?
  "nav.reports": "Report-te", // ?
  "cases.title": "Case-te", // ?
  "cases.more": "A dang en rawh", // ?
  "cases.status": "Dinhmun", // ?
  "cases.any": "Eng pawh", // ?
  "cases.country": "Ram", // ?
  "cases.search": "Mi hming", // ?
  "cases.since": "Hawn ṭanna", // ?
  "cases.until": "Hawn tawpna", // ?
  "cases.mine": "Ka ta chauh", // ?
  "cases.filter": "Thlur rawh", // ?
  "cases.none": "Case a awm lo.", // ?
  "cases.person": "Mi", // ?
  "cases.owner": "Enkawltu", // ?
  "cases.opened": "Hawn ni", // ?
  "cases.back": "← Case zawng zawng", // ?
  "cases.caseOf": "Case: {name}", // ?
  "cases.outcome": "A rah chhuah", // ?
  "cases.alert": "Alert", // ?
  "cases.openAlert": "Alert hawng rawh", // ?
  "cases.summary": "A tawi", // ?
  "cases.save": "Dah ṭha rawh", // ?
  "cases.takeOver": "He case hi la rawh", // ?
  "cases.notes": "Chhinchhiahna", // ?
  "cases.addNote": "Chhinchhiahna belh rawh", // ?
  "cases.noteKind": "Chi", // ?
  "cases.noteBody": "Chhinchhiahna", // ?
  "cases.reminders": "Hriat nawn tirna", // ?
  "cases.addReminder": "Hriat nawn tirna belh rawh", // ?
  "cases.due": "Hun", // ?
  "cases.reminderNote": "Zawh leh tur", // ?
  "cases.referrals": "Thawn chhawnna", // ?
  "cases.refer": "Thawn chhawng rawh", // ?
  "cases.agency": "Thawhpui pawl", // ?
  "cases.attach": "Belh rawh", // ?
  "cases.referralNote": "Pawl hnena thuchah", // ?
  "cases.addAgency": "Pawl belh rawh", // ?
  "cases.newAgency": "Thawhpui pawl thar", // ?
  "cases.agencyName": "Hming", // ?
  "cases.agencyKind": "Chi", // ?
  "cases.agencyEmail": "Email", // ?
  "cases.close": "Case khar rawh", // ?
  "cases.outcomeNote": "Kharna chhinchhiahna", // ?
  "cases.fromAlert": "He alert hian case hawng rawh", // ?
  "case.status.open": "Hawn", // ?
  "case.status.in_progress": "Thawh mek", // ?
  "case.status.referred": "Thawn chhawn", // ?
  "case.status.closed": "Khar", // ?
  "case.outcome.safe": "Himna", // ?
  "case.outcome.repatriated": "In lam haw", // ?
  "case.outcome.legal_action": "Dan lam hmalakna", // ?
  "case.outcome.referred_elsewhere": "Hmun dangah thawn", // ?
  "case.outcome.no_contact": "Biak pawh theih loh", // ?
  "case.outcome.declined_help": "Ṭanpuina duh lo", // ?
  "case.outcome.duplicate": "Inang nawn", // ?
  "case.outcome.other": "A dang", // ?
  "case.note.call": "Phone", // ?
  "case.note.visit": "Tlawh", // ?
  "case.note.referral": "Thawn chhawnna", // ?
  "case.note.other": "A dang", // ?
  "case.reminder.pending": "nghah mek", // ?
  "case.reminder.firing": "a hun tawh", // ?
  "case.reminder.fired": "thawn zo", // ?
  "case.reminder.cancelled": "sut", // ?
  "case.attach.json": "Alert chanchin (JSON)", // ?
  "case.attach.cap": "Alert chanchin (CAP XML)", // ?
  "case.attach.none": "Engmah", // ?
  "case.agency.mission": "India mission", // ?
  "case.agency.police": "Police", // ?
  "case.agency.ngo": "NGO", // ?
  "case.agency.other": "A dang", // ?
  "audit.referral_json": "thawhpui pawlah thawn (JSON)", // ?
  "audit.referral_cap": "thawhpui pawlah thawn (CAP)", // ?
  "reports.title": "Report-te", // ?
  "reports.show": "Entir rawh", // ?
  "reports.csv": "CSV download rawh", // ?
  "reports.from": "Ṭanna", // ?
  "reports.to": "Tawpna", // ?
  "reports.country": "Ram", // ?
  "reports.total": "A vaiin", // ?
  "reports.unknown": "Hriat loh", // ?
  "reports.suppressed": "{k} aia tlem chu “<{k}” tiin an lang a, chhut chhuah theih loh nan a dang pawh thup a ni.", // ?
  "reports.alertsPerMonth": "Thla tin alert leh case", // ?
  "reports.alerts": "Alert", // ?
  "reports.cases": "Case", // ?
  "reports.ackTime": "Chhan hun (second)", // ?
  "reports.alertsByCountry": "Ram leh thla tin alert", // ?
  "reports.casesByCountry": "Ram leh thla tin case", // ?
  "reports.ackOverall": "Alert {n} chhan hun: a laihawl {p50} s, 90% chu {p90} s chhungin.", // ?
  "reports.escalations": "Escalation thlen chin", // ?
  "reports.outcomes": "Case khar te rah chhuah", // ?
  "reports.step.none": "Awm lo", // ?
  "reports.step.t1": "Escalation hmasa", // ?
  "reports.step.t2": "Escalation pahnihna", // ?
  "mycase.status": "Diaspora Cell-ah i case: {status}", // ?
  "err.case_not_found": "Case hmuh a ni lo.", // ?
  "err.case_closed": "He case hi khar a ni.", // ?
  "err.invalid_owner": "Enkawltu chu Cell officer a ni tur a ni.", // ?
  "err.invalid_due_at": "Hun lo la awm tur thlang rawh.", // ?
  "err.agency_not_found": "Thawhpui pawl hmuh a ni lo.", // ?
  "err.no_alert": "He case hian alert belh tur a nei lo.", // ?
  "err.range_too_long": "Hun tawi zawk thlang rawh.", // ?
  "err.range_too_busy": "A tam lutuk: hun tawi zawk thlang rawh.", // ?
  "err.message_not_found": "Thuthawn hmuh a ni lo.", // ?
  "err.person_not_found": "Mi hmuh a ni lo.", // ?

  // views/push.js (DRAFT: every line uncertain)
  "push.title": "Hriattirna",
  "push.intro": "Lock screen-ah chuan tu nge ziak tih chauh a lang ang, preview i phal loh chuan.",
  "push.turnOn": "He device-ah hian hriattirna tihnun rawh",
  "push.turnOff": "He device-ah hian tihmit rawh",
  "push.onHere": "He device-ah hian hriattirna a nung.",
  "push.offHere": "He device-ah hian hriattirna a mit.",
  "push.unsupported": "He browser hian hriattirna a dawng thei lo.",
  "push.denied": "He site atan hriattirna dan a ni. Browser site settings-ah phal rawh.",
  "push.failed": "He browser hian a push service a pan thei lo. Nakinah ti nawn leh rawh.",
  "push.what": "Heng chungchangah hian min hriattir rawh",
  "push.dms": "Thuthawn mimal",
  "push.mentions": "Ka hming an sawi chhuah hian",
  "push.previews": "Lock screen-ah thuthawn chu lantir rawh",
  "push.sos": "Duty-a ka awm laiin SOS thar zawng zawng",
};

export const DICTIONARIES = { en, lus };
const LANG_KEY = "hubchat.lang";

function initial() {
  try {
    const chosen = localStorage.getItem(LANG_KEY);
    if (chosen === "en" || chosen === "lus") return chosen;
    const saved = JSON.parse(localStorage.getItem("hubchat.session") || "null");
    if (saved?.user?.language === "lus" || saved?.user?.language === "en") return saved.user.language;
  } catch { /* storage unavailable */ }
  return (navigator.language || "").toLowerCase().startsWith("lus") ? "lus" : "en";
}

let lang = initial();
document.documentElement.lang = lang;

export function getLang() { return lang; }

export function has(key) { return key in en; }

export function t(key, params = {}) {
  const other = lang === "lus" ? "English" : "Mizo";
  // Plurals: "<key>.one" is used when params.n is 1, where a dictionary has it.
  const k = params.n === 1 && `${key}.one` in en ? `${key}.one` : key;
  let text = (DICTIONARIES[lang] && DICTIONARIES[lang][k]) ?? en[k] ?? key;
  const values = { other, ...params };
  text = text.replace(/\{(\w+)\}/g, (m, name) => (values[name] !== undefined ? String(values[name]) : m));
  return text;
}

/** Changes the interface language; ``remember`` keeps it as an explicit choice. */
export function setLang(next, remember = true) {
  if (next !== "en" && next !== "lus") return;
  if (remember) {
    try { localStorage.setItem(LANG_KEY, next); } catch { /* ignore */ }
  }
  if (next === lang) return;
  lang = next;
  document.documentElement.lang = lang;
  bus.emit("lang:changed", lang);
}

export function onLangChange(fn) { return bus.on("lang:changed", fn); }
