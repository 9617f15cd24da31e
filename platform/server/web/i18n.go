package web

import "strings"

// catalogues hold every string of the app, per language. tr of a key missing from a
// catalogue renders "⟦key⟧", which the tests look for on every page in every language.
var catalogues = map[string]map[string]string{"en": en, "fr": fr}

func tr(lang, key string) string {
	if s, ok := catalogues[lang][key]; ok {
		return s
	}
	return "⟦" + key + "⟧"
}

// trField names a field of a work request.
func trField(lang, f string) string {
	if s, ok := catalogues[lang]["field."+f]; ok {
		return s
	}
	return "⟦field." + f + "⟧"
}

// trAPI translates the API's error messages the forms show; an unknown message stays as
// the API wrote it (English), after the field's name.
func trAPI(lang, msg string) string {
	if s, ok := catalogues[lang]["api."+msg]; ok {
		return s
	}
	for prefix, key := range apiPrefixes {
		if strings.HasPrefix(msg, prefix) {
			if s, ok := catalogues[lang][key]; ok {
				return s
			}
		}
	}
	return msg
}

var apiPrefixes = map[string]string{
	"payments for this work add up to at most its agreed price": "api.paymentTooMuch",
	"work in state":                         "api.wrongState",
	"must be a date like":                   "api.date",
	"must be a time like":                   "api.time",
	"must be at least the voted floorCents": "api.floor",
}

var en = map[string]string{
	"app.name":   "Members' app",
	"app.footer": "Your co-op's platform: owned and run by its members.",
	"nav.skip":   "Skip to content", "nav.label": "Main", "nav.home": "My work", "nav.request": "Request work",
	"nav.earnings": "My earnings", "nav.money": "The co-op's money", "nav.governance": "Votes", "nav.vitality": "Vitality",
	"nav.data": "My data", "nav.signOut": "Sign out",

	"signin.title": "Sign in", "signin.help": "Type the sign-in code the co-op's staff gave you (or that you asked for with your token). A code works once.",
	"signin.code": "Sign-in code", "signin.submit": "Sign in", "signin.codeRequired": "Type your sign-in code.",
	"signin.codeInvalid": "This code is not valid: it may be mistyped, used already, or expired. Ask the co-op's staff for a new one.",
	"signin.expired":     "Please sign in (your session has ended or you are not signed in).",

	"error.title": "Something went wrong", "error.back": "Back to the start", "error.notFound": "There is nothing here for you.",
	"error.forbidden": "You may not see or do this.", "error.conflict": "This cannot be done now.",
	"error.unavailable": "The service is unavailable right now; try again in a moment.", "error.tooMany": "Too many requests; wait a moment.",
	"error.csrf":        "This form has expired or did not come from this app. Go back, reload the page and try again.",
	"error.signInFirst": "Please sign in first.", "error.generic": "The request could not be done.",

	"home.title": "My work", "home.hello": "Hello %s", "home.memberNo": "member no. %d", "home.availability": "Availability",
	"home.available": "You are available: the co-op may offer you work.", "home.unavailable": "You are not available: no work will be offered to you.",
	"home.goAvailable": "I am available", "home.goUnavailable": "I am not available",
	"home.offers": "Offers waiting for you", "home.noOffers": "No offers right now.",
	"home.current": "Your current work", "home.noCurrent": "Nothing under way.",
	"home.requested": "What you asked for", "home.newRequest": "Request work", "home.noRequested": "No open requests.",
	"home.past": "Done and cancelled", "home.noPast": "Nothing yet.",

	"work.title": "Work", "work.item": "Work no. %d", "work.kind": "Kind", "work.state": "State", "work.price": "Price",
	"work.surge": "of which surge %s", "work.rating": "Rating", "work.seePayment": "See the payment and where it goes",
	"work.next": "Next step", "work.waiting": "Waiting for a worker.", "work.history": "History",

	"action.accept": "Accept", "action.decline": "Decline", "action.start": "Start", "action.complete": "Complete",
	"action.cancel": "Cancel this work", "action.match": "Find a worker",

	"state.requested": "requested", "state.offered": "offered to a worker", "state.accepted": "accepted",
	"state.in_progress": "in progress", "state.completed": "completed", "state.cancelled": "cancelled",

	"kind.delivery": "Delivery", "kind.ride": "Ride", "kind.booking": "Booking", "kind.gig": "Gig", "kind.listing": "Listing",
	"kind.order": "Order", "kind.stay": "Stay",

	"field.pickup": "Pick-up address", "field.dropoff": "Drop-off address", "field.notes": "Notes", "field.parcelSize": "Parcel size",
	"field.seats": "Seats", "field.address": "Address", "field.service": "Service", "field.scheduledAt": "Date and time",
	"field.careType": "Kind of care", "field.durationMinutes": "Duration (minutes)", "field.title": "Title",
	"field.description": "Description", "field.deadline": "Deadline", "field.listingId": "Listing number",
	"field.shippingAddress": "Shipping address", "field.quantity": "Quantity", "field.unit": "Unit", "field.checkIn": "Check-in",
	"field.checkOut": "Check-out", "field.guests": "Guests",

	"form.required": "required",
	"request.title": "Request work", "request.kind": "Kind of work", "request.chooseKind": "Choose", "request.for": "Request: %s",
	"request.price": "Price you offer", "request.distance": "Distance (km)", "request.minutes": "Duration (minutes)",
	"request.submit": "Send the request", "request.numberInvalid": "Type a number.",

	"pay.title": "Pay", "pay.help": "The agreed price was paid when the work was completed. You can add a payment (a tip), up to the agreed price.",
	"pay.amount": "Amount", "pay.submit": "Pay", "pay.amountInvalid": "Type an amount like 12.50.",
	"rate.title": "Rate the work", "rate.stars": "Stars (1 to 5)", "rate.submit": "Rate",
	"block.title": "Block this worker", "block.help": "You will not be matched with this worker again.", "block.submit": "Block",

	"earnings.title": "My earnings", "earnings.total": "Earned in total", "earnings.chart": "Earnings by month",
	"earnings.byMonth": "By month", "earnings.byWeek": "By week", "earnings.month": "Month", "earnings.week": "Week",
	"earnings.amount": "Amount", "earnings.payments": "Each payment", "earnings.none": "No payments yet.",
	"earnings.breakdown": "Each payment and its fee", "earnings.when": "When", "earnings.you": "You received", "earnings.refund": "refund",

	"payment.title": "Payment", "payment.whereItGoes": "Where this payment goes", "payment.gross": "Paid", "payment.surge": "Surge",
	"payment.worker": "To the worker", "payment.fee": "Platform fee", "payment.funds": "Funds", "payment.fundOf": "Fund %s (out of the fee)",
	"payment.operating": "Co-op operating account (rest of the fee)", "payment.coopSurge": "Co-op's share of the surge", "payment.refunded": "refunded",

	"money.title": "The co-op's money", "money.rule": "How every payment is split", "money.ruleHelp": "The members decide this split by vote.",
	"money.balances": "Fund balances", "money.chart": "Balance of each account", "money.account": "Account", "money.balance": "Balance",
	"money.received": "Received from customers", "money.paidToWorkers": "Paid to workers", "money.disbursed": "Paid out by the funds",
	"money.hosting": "The co-op's share of the hosting bill", "money.hostingNone": "The hub has not reported a hosting bill for this co-op yet.",
	"account.operating": "Operating account", "account.surge": "Surge share", "account.fund": "Fund",
	"fee.platform": "Platform fee: %s%% of each payment (surge excluded)", "fee.fund": "Fund %s: %s%% of each payment, out of the fee",
	"fee.surge": "Surge to the worker: %d%%",

	"governance.title": "Votes", "governance.open": "Open proposals", "governance.noOpen": "No open proposals.",
	"governance.now": "Now", "governance.proposed": "Proposed", "governance.deadline": "Voting closes",
	"governance.electorate": "%d members may vote", "governance.yourVote": "Your vote", "governance.vote": "Vote",
	"governance.delegation": "Delegation", "governance.delegateTo": "Give my vote to member no.", "governance.delegate": "Delegate",
	"governance.undelegate": "Take my vote back", "governance.closed": "Closed proposals", "governance.noClosed": "None yet.",
	"governance.passed": "Passed", "governance.rejected": "Not passed", "governance.turnout": "turnout %s%%",
	"governance.approval": "approval %s%%", "governance.tally": "Votes per class", "governance.class": "Class", "governance.eligible": "Could vote",
	"choice.yes": "Yes", "choice.no": "No", "choice.abstain": "Abstain", "choice.object": "Object",
	"application.pending": "Waiting to be applied", "application.applied": "Applied", "application.refused": "Not applied: the recount differed",
	"application.failed": "Could not be applied",

	"vitality.title": "Vitality", "vitality.intro": "How healthy is our co-op: do members take part, are decisions quick, is the platform reliable, is the economy sound?",
	"vitality.participation": "Participation (share of eligible members who voted)", "vitality.speed": "Decision speed (hours from proposal to result or change)",
	"vitality.medianTurnout": "Median turnout %s%% over %d votes.", "vitality.medianHours": "Median %s hours.",
	"vitality.noVotes": "No closed votes yet.", "vitality.reliability": "Reliability",
	"vitality.reliabilityNone": "The operator does not report the platform's readiness and backups here yet.",
	"vitality.economy":         "Economic health", "vitality.gross": "Gross volume", "vitality.workers": "Paid to workers", "vitality.fees": "Fee income",

	"data.title": "My data", "data.download": "Download my data", "data.downloadHelp": "Everything the co-op holds about you, as a JSON file.",
	"data.downloadLink": "Download my data (JSON)", "data.erase": "Erase my personal data",
	"data.eraseGoes":  "What goes: your name, email, phone, class, qualifications, sign-in tokens and sessions, the addresses and notes of your work, the texts you wrote.",
	"data.eraseStays": "What stays, as the co-op's records: your member number (anonymised, inactive), payments and the ledger, work with its price and state, your ballots.",
	"data.eraseAfter": "You can no longer sign in afterwards; this cannot be undone. Erasure is refused while you have work under way.",
	"data.confirm":    "I understand, erase my personal data", "data.eraseSubmit": "Erase my data", "data.confirmRequired": "Tick the box to confirm.",
	"erased.title": "Your data is erased", "erased.body": "Your personal data is erased and you are signed out.",

	"flash.accept": "You accepted the work.", "flash.decline": "You declined the offer.", "flash.start": "The work has started.",
	"flash.complete": "The work is complete; the payment is recorded.", "flash.cancel": "The work is cancelled.",
	"flash.match": "Your request was offered to a worker.", "flash.rate": "Thank you for your rating.", "flash.block": "The worker is blocked.",
	"flash.pay": "Your payment is recorded.", "flash.available": "You are available.", "flash.unavailable": "You are not available.",
	"flash.requested": "Your request is recorded; no worker is free right now.", "flash.vote": "Your vote is recorded.",
	"flash.delegate": "Your vote is delegated.", "flash.undelegate": "You took your vote back.",

	"api.is required": "This field is required.", "api.must be a positive integer": "Type a positive amount.",
	"api.paymentTooMuch": "Payments for this work add up to at most its agreed price.", "api.wrongState": "The work is not in a state that allows this.",
	"api.date": "Type a date.", "api.time": "Type a date and time.", "api.floor": "The price is below the co-op's minimum rate.",
}

var fr = map[string]string{
	"app.name":   "Appli des membres",
	"app.footer": "La plateforme de votre coopérative : elle appartient à ses membres, qui la dirigent.",
	"nav.skip":   "Aller au contenu", "nav.label": "Principal", "nav.home": "Mon travail", "nav.request": "Demander un service",
	"nav.earnings": "Mes revenus", "nav.money": "L'argent de la coop", "nav.governance": "Votes", "nav.vitality": "Vitalité",
	"nav.data": "Mes données", "nav.signOut": "Se déconnecter",

	"signin.title": "Connexion", "signin.help": "Tapez le code de connexion donné par l'équipe de la coopérative (ou demandé avec votre jeton). Un code ne sert qu'une fois.",
	"signin.code": "Code de connexion", "signin.submit": "Se connecter", "signin.codeRequired": "Tapez votre code de connexion.",
	"signin.codeInvalid": "Ce code n'est pas valable : il est peut-être mal tapé, déjà utilisé ou expiré. Demandez-en un nouveau à l'équipe.",
	"signin.expired":     "Veuillez vous connecter (votre session est terminée ou vous n'êtes pas connecté).",

	"error.title": "Un problème est survenu", "error.back": "Retour à l'accueil", "error.notFound": "Il n'y a rien ici pour vous.",
	"error.forbidden": "Vous ne pouvez pas voir ou faire ceci.", "error.conflict": "Ce n'est pas possible maintenant.",
	"error.unavailable": "Le service est indisponible ; réessayez dans un instant.", "error.tooMany": "Trop de demandes ; patientez un instant.",
	"error.csrf":        "Ce formulaire a expiré ou ne vient pas de cette appli. Revenez en arrière, rechargez la page et réessayez.",
	"error.signInFirst": "Veuillez d'abord vous connecter.", "error.generic": "La demande n'a pas pu aboutir.",

	"home.title": "Mon travail", "home.hello": "Bonjour %s", "home.memberNo": "membre n° %d", "home.availability": "Disponibilité",
	"home.available": "Vous êtes disponible : la coop peut vous proposer du travail.", "home.unavailable": "Vous n'êtes pas disponible : aucun travail ne vous sera proposé.",
	"home.goAvailable": "Je suis disponible", "home.goUnavailable": "Je ne suis pas disponible",
	"home.offers": "Propositions en attente", "home.noOffers": "Aucune proposition pour l'instant.",
	"home.current": "Votre travail en cours", "home.noCurrent": "Rien en cours.",
	"home.requested": "Vos demandes", "home.newRequest": "Demander un service", "home.noRequested": "Aucune demande ouverte.",
	"home.past": "Terminé et annulé", "home.noPast": "Rien pour l'instant.",

	"work.title": "Travail", "work.item": "Travail n° %d", "work.kind": "Type", "work.state": "État", "work.price": "Prix",
	"work.surge": "dont majoration %s", "work.rating": "Note", "work.seePayment": "Voir le paiement et sa répartition",
	"work.next": "Étape suivante", "work.waiting": "En attente d'un travailleur.", "work.history": "Historique",

	"action.accept": "Accepter", "action.decline": "Refuser", "action.start": "Commencer", "action.complete": "Terminer",
	"action.cancel": "Annuler ce travail", "action.match": "Trouver un travailleur",

	"state.requested": "demandé", "state.offered": "proposé à un travailleur", "state.accepted": "accepté",
	"state.in_progress": "en cours", "state.completed": "terminé", "state.cancelled": "annulé",

	"kind.delivery": "Livraison", "kind.ride": "Course", "kind.booking": "Réservation", "kind.gig": "Mission", "kind.listing": "Annonce",
	"kind.order": "Commande", "kind.stay": "Séjour",

	"field.pickup": "Adresse de départ", "field.dropoff": "Adresse d'arrivée", "field.notes": "Remarques", "field.parcelSize": "Taille du colis",
	"field.seats": "Places", "field.address": "Adresse", "field.service": "Service", "field.scheduledAt": "Date et heure",
	"field.careType": "Type de soin", "field.durationMinutes": "Durée (minutes)", "field.title": "Titre",
	"field.description": "Description", "field.deadline": "Échéance", "field.listingId": "Numéro d'annonce",
	"field.shippingAddress": "Adresse de livraison", "field.quantity": "Quantité", "field.unit": "Logement", "field.checkIn": "Arrivée",
	"field.checkOut": "Départ", "field.guests": "Personnes",

	"form.required": "obligatoire",
	"request.title": "Demander un service", "request.kind": "Type de travail", "request.chooseKind": "Choisir", "request.for": "Demande : %s",
	"request.price": "Prix proposé", "request.distance": "Distance (km)", "request.minutes": "Durée (minutes)",
	"request.submit": "Envoyer la demande", "request.numberInvalid": "Tapez un nombre.",

	"pay.title": "Payer", "pay.help": "Le prix convenu a été payé à la fin du travail. Vous pouvez ajouter un paiement (un pourboire), jusqu'au prix convenu.",
	"pay.amount": "Montant", "pay.submit": "Payer", "pay.amountInvalid": "Tapez un montant comme 12,50.",
	"rate.title": "Noter le travail", "rate.stars": "Étoiles (1 à 5)", "rate.submit": "Noter",
	"block.title": "Bloquer ce travailleur", "block.help": "Ce travailleur ne vous sera plus attribué.", "block.submit": "Bloquer",

	"earnings.title": "Mes revenus", "earnings.total": "Total gagné", "earnings.chart": "Revenus par mois",
	"earnings.byMonth": "Par mois", "earnings.byWeek": "Par semaine", "earnings.month": "Mois", "earnings.week": "Semaine",
	"earnings.amount": "Montant", "earnings.payments": "Chaque paiement", "earnings.none": "Aucun paiement pour l'instant.",
	"earnings.breakdown": "Chaque paiement et sa commission", "earnings.when": "Date", "earnings.you": "Vous avez reçu", "earnings.refund": "remboursement",

	"payment.title": "Paiement", "payment.whereItGoes": "Où va ce paiement", "payment.gross": "Payé", "payment.surge": "Majoration",
	"payment.worker": "Au travailleur", "payment.fee": "Commission de la plateforme", "payment.funds": "Fonds", "payment.fundOf": "Fonds %s (pris sur la commission)",
	"payment.operating": "Compte de fonctionnement de la coop (reste de la commission)", "payment.coopSurge": "Part de la majoration pour la coop", "payment.refunded": "remboursé",

	"money.title": "L'argent de la coop", "money.rule": "Comment chaque paiement est réparti", "money.ruleHelp": "Les membres décident de cette répartition par vote.",
	"money.balances": "Soldes des fonds", "money.chart": "Solde de chaque compte", "money.account": "Compte", "money.balance": "Solde",
	"money.received": "Reçu des clients", "money.paidToWorkers": "Versé aux travailleurs", "money.disbursed": "Versé par les fonds",
	"money.hosting": "La part de la coop dans la facture d'hébergement", "money.hostingNone": "Le hub n'a pas encore transmis de facture d'hébergement pour cette coop.",
	"account.operating": "Compte de fonctionnement", "account.surge": "Part de majoration", "account.fund": "Fonds",
	"fee.platform": "Commission : %s %% de chaque paiement (hors majoration)", "fee.fund": "Fonds %s : %s %% de chaque paiement, pris sur la commission",
	"fee.surge": "Majoration au travailleur : %d %%",

	"governance.title": "Votes", "governance.open": "Propositions ouvertes", "governance.noOpen": "Aucune proposition ouverte.",
	"governance.now": "Aujourd'hui", "governance.proposed": "Proposé", "governance.deadline": "Fin du vote",
	"governance.electorate": "%d membres peuvent voter", "governance.yourVote": "Votre vote", "governance.vote": "Voter",
	"governance.delegation": "Délégation", "governance.delegateTo": "Confier mon vote au membre n°", "governance.delegate": "Déléguer",
	"governance.undelegate": "Reprendre mon vote", "governance.closed": "Propositions closes", "governance.noClosed": "Aucune pour l'instant.",
	"governance.passed": "Adoptée", "governance.rejected": "Non adoptée", "governance.turnout": "participation %s %%",
	"governance.approval": "approbation %s %%", "governance.tally": "Votes par collège", "governance.class": "Collège", "governance.eligible": "Pouvaient voter",
	"choice.yes": "Oui", "choice.no": "Non", "choice.abstain": "Abstention", "choice.object": "Objection",
	"application.pending": "En attente d'application", "application.applied": "Appliquée", "application.refused": "Non appliquée : le recomptage diffère",
	"application.failed": "N'a pas pu être appliquée",

	"vitality.title": "Vitalité", "vitality.intro": "La santé de notre coop : les membres participent-ils, les décisions sont-elles rapides, la plateforme est-elle fiable, l'économie est-elle saine ?",
	"vitality.participation": "Participation (part des membres qui ont voté)", "vitality.speed": "Rapidité des décisions (heures entre la proposition et le résultat ou le changement)",
	"vitality.medianTurnout": "Participation médiane %s %% sur %d votes.", "vitality.medianHours": "Médiane : %s heures.",
	"vitality.noVotes": "Aucun vote clos pour l'instant.", "vitality.reliability": "Fiabilité",
	"vitality.reliabilityNone": "L'opérateur ne transmet pas encore ici la disponibilité de la plateforme ni les sauvegardes.",
	"vitality.economy":         "Santé économique", "vitality.gross": "Volume brut", "vitality.workers": "Versé aux travailleurs", "vitality.fees": "Revenus de la commission",

	"data.title": "Mes données", "data.download": "Télécharger mes données", "data.downloadHelp": "Tout ce que la coop détient sur vous, dans un fichier JSON.",
	"data.downloadLink": "Télécharger mes données (JSON)", "data.erase": "Effacer mes données personnelles",
	"data.eraseGoes":  "Ce qui part : votre nom, e-mail, téléphone, collège, qualifications, jetons et sessions, les adresses et remarques de vos travaux, les textes que vous avez écrits.",
	"data.eraseStays": "Ce qui reste, comme archives de la coop : votre numéro de membre (anonymisé, inactif), les paiements et la comptabilité, les travaux avec leur prix et leur état, vos bulletins.",
	"data.eraseAfter": "Vous ne pourrez plus vous connecter ; c'est irréversible. L'effacement est refusé tant que vous avez un travail en cours.",
	"data.confirm":    "J'ai compris, effacez mes données personnelles", "data.eraseSubmit": "Effacer mes données", "data.confirmRequired": "Cochez la case pour confirmer.",
	"erased.title": "Vos données sont effacées", "erased.body": "Vos données personnelles sont effacées et vous êtes déconnecté.",

	"flash.accept": "Vous avez accepté le travail.", "flash.decline": "Vous avez refusé la proposition.", "flash.start": "Le travail a commencé.",
	"flash.complete": "Le travail est terminé ; le paiement est enregistré.", "flash.cancel": "Le travail est annulé.",
	"flash.match": "Votre demande a été proposée à un travailleur.", "flash.rate": "Merci pour votre note.", "flash.block": "Le travailleur est bloqué.",
	"flash.pay": "Votre paiement est enregistré.", "flash.available": "Vous êtes disponible.", "flash.unavailable": "Vous n'êtes pas disponible.",
	"flash.requested": "Votre demande est enregistrée ; aucun travailleur n'est libre pour l'instant.", "flash.vote": "Votre vote est enregistré.",
	"flash.delegate": "Votre vote est délégué.", "flash.undelegate": "Vous avez repris votre vote.",

	"api.is required": "Ce champ est obligatoire.", "api.must be a positive integer": "Tapez un montant positif.",
	"api.paymentTooMuch": "Les paiements pour ce travail ne peuvent dépasser son prix convenu.", "api.wrongState": "L'état du travail ne permet pas cela.",
	"api.date": "Tapez une date.", "api.time": "Tapez une date et une heure.", "api.floor": "Le prix est sous le tarif minimum de la coop.",
}
