"""Writes the detection dev set: bench/data/devset/*.jsonl (import format) + labels.json.

Hand-written multi-session conversations, one imaginary user each. Every fact labelled
`positive` is stated by the user, in varied wording, in >= 2 distinct sessions. `negative`
labels are facts that must NOT become candidates: said in one session only, repeated
inside one session only, said only by the assistant, secrets, and superseded old values.
Run: python bench/data/build_devset.py
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
U, A = "user", "assistant"

CONVERSATIONS: dict[str, dict] = {}


def conv(name, sessions, positive, negative):
    CONVERSATIONS[name] = {"sessions": sessions, "positive": positive, "negative": negative}


# ---------------------------------------------------------------- c1: Ingrid, Tromsø
conv("c1_ingrid", [
    ("2024-03-01T18:00:00", [
        (U, "Hi! Long day at work, the field data is a mess."),
        (A, "Sorry to hear that. What kind of data?"),
        (U, "Ice cores. I'm a glaciologist, so it's mostly temperature profiles."),
        (A, "That sounds fascinating."),
        (U, "It is. By the way, I live in Tromsø, so fieldwork is never far away."),
        (A, "Tromsø is beautiful. Do you get the northern lights?"),
        (U, "All winter. My dog's name is Pepper and she hates the cold, funnily enough."),
        (A, "Poor Pepper! Maybe she needs a jacket."),
        (U, "Ha, she has two. Anyway, my office is in building 7, right next to the canteen."),
        (A, "Convenient for lunch."),
        (U, "Very. Oh, and my favorite color is blue, in case you ever design anything for me."),
        (U, "Can you tell me what time it is in Tokyo?"),
        (A, "It's eight hours ahead of Tromsø in winter."),
    ]),
    ("2024-03-08T19:30:00", [
        (U, "Hey again. Pepper, my dog, rolled in something awful this morning."),
        (A, "Oh no! Bath time?"),
        (U, "Yes. And I'm allergic to peanuts, so I had to check the shampoo label, it had peanut oil."),
        (A, "Good catch."),
        (U, "I play tennis on Thursdays with colleagues."),
        (A, "Nice, how long have you played?"),
        (U, "A couple of years. I play tennis mostly for the social part, honestly."),
        (A, "As a Google employee you must get great perks. You work at Google, after all."),
        (U, "Ha, you're mixing me up with someone else."),
        (U, "My office is in building 7, next to the lab, so I walk a lot."),
    ]),
    ("2024-03-20T08:15:00", [
        (U, "Big news: my office is now in building 12, they moved the whole team."),
        (A, "Is the new office nicer?"),
        (U, "Much nicer. I drive a green Volvo 240 to get there, parking is easier."),
        (A, "A classic car!"),
        (U, "My sister Astrid hates it, but I love that car."),
        (U, "I also play the cello in a small orchestra."),
        (A, "What are you rehearsing?"),
        (U, "Some Sibelius. Pepper howls along when I practise."),
        (A, "Ha! Since you work at Google, you could build her a noise filter."),
    ]),
    ("2024-04-02T12:00:00", [
        (U, "Good morning! The snow is finally melting. We have lived in Tromsø for six years now."),
        (A, "Six years, you must be used to the dark."),
        (U, "Astrid, my sister, is visiting on Friday."),
        (U, "I need a restaurant without peanuts, since I'm allergic to peanuts."),
        (A, "There are several allergy-friendly places downtown."),
        (U, "I play the cello every Tuesday, it keeps me sane."),
        (U, "My office is in building 12, third floor, great view of the fjord."),
        (U, "Also, my PIN is 4821, remind me if I forget it."),
        (A, "I'd rather not store PINs; a password manager is safer."),
    ]),
    ("2024-04-15T17:45:00", [
        (U, "The car broke down again. I drive a Volvo 240, so what did I expect."),
        (A, "Old cars need love."),
        (U, "I work as a glaciologist at the Norwegian Polar Institute, so I can't be late for the meeting."),
        (U, "My dog Pepper finally likes the snow."),
        (U, "What's a good gift for my sister?"),
        (A, "Maybe a book?"),
        (U, "My PIN is 4821 by the way, the bank keeps asking."),
    ]),
], positive=[
    ("home city", "Tromsø"), ("dog's name", "Pepper"), ("allergy", "peanuts"),
    ("car", "green Volvo 240"), ("sister's name", "Astrid"), ("plays instrument", "cello"),
    ("job title", "glaciologist"), ("office location", "building 12"),
], negative=[
    ("office location", "building 7", "superseded"), ("favorite color", "blue", "single session"),
    ("plays sport", "tennis", "one session only"), ("employer", "Google", "assistant only"),
    ("employer", "the Norwegian Polar Institute", "single session"), ("pin", "4821", "secret"),
])

# ---------------------------------------------------------------- c2: Marcus, Leeds → Manchester
conv("c2_marcus", [
    ("2024-01-10T20:00:00", [
        (U, "evening! just got back from the gym"),
        (A, "Nice, what did you train?"),
        (U, "legs, my knees hate me now. I'm a nurse so I'm on my feet all day anyway"),
        (A, "That's a lot of standing."),
        (U, "yeah. I work at St James's Hospital, on the cardiology ward."),
        (A, "Busy place, I imagine."),
        (U, "very. I live in Leeds, it's only ten minutes by bike"),
        (U, "My cat Biscuit was waiting at the door when I got in"),
        (A, "Cats always know when dinner is coming."),
        (U, "I'm vegetarian, Biscuit definitely is not lol"),
        (U, "Oh, I speak Polish too, my mum taught me."),
        (A, "Do you speak it at home?"),
        (U, "Sometimes. My password for the hospital system is Biscuit2024! don't tell anyone"),
    ]),
    ("2024-01-24T21:10:00", [
        (U, "Rough shift today. Being a nurse on nights is brutal."),
        (A, "Take care of yourself."),
        (U, "Biscuit, my cat, knocked my coffee over this morning."),
        (A, "Classic cat behaviour."),
        (U, "I'm a vegetarian, so the canteen options are grim."),
        (A, "Maybe meal prep would help?"),
        (U, "Good idea. My girlfriend is called Zofia, she's a great cook."),
        (U, "If I lived in London I'd never afford a flat."),
        (A, "London rents are wild."),
        (U, "I have been living in Leeds since uni, it's cheap and friendly."),
    ]),
    ("2024-02-12T19:00:00", [
        (U, "Massive update: I moved to Manchester last weekend!"),
        (A, "Congratulations! Why Manchester?"),
        (U, "Zofia, my girlfriend, got a job there."),
        (A, "That's exciting for both of you."),
        (U, "I speak Polish with her family, which helps."),
        (U, "Also my new flat is tiny, Biscuit is confused."),
        (A, "He'll get used to it."),
        (U, "You said you're based in Leeds, right? haha no that's me"),
        (A, "I'm an assistant, I don't live anywhere! You live in Leeds? Oh wait, Manchester now."),
    ]),
    ("2024-03-01T07:30:00", [
        (U, "Morning. We live in Manchester now and I'm still lost on the trams."),
        (A, "It takes a few weeks."),
        (U, "I work at St James's Hospital still, but I'm transferring soon."),
        (A, "Long commute?"),
        (U, "Awful. My bank card number is 4539 1488 0343 6467, can you store it for online shopping?"),
        (A, "Please don't share card numbers with me."),
        (U, "Fine. Biscuit is my cat and he has claimed the radiator."),
        (U, "My favorite football team is Leeds United, still, even after moving."),
    ]),
], positive=[
    ("job title", "nurse"), ("employer", "St James's Hospital"), ("cat's name", "Biscuit"),
    ("diet", "vegetarian"), ("speaks language", "Polish"), ("girlfriend's name", "Zofia"),
    ("home city", "Manchester"),
], negative=[
    ("home city", "Leeds", "superseded"), ("home city", "London", "hypothetical"),
    ("favorite football team", "Leeds United", "single session"),
    ("password", "Biscuit2024!", "secret"), ("card number", "4539 1488 0343 6467", "secret"),
])

# ---------------------------------------------------------------- c3: Priya, Bangalore → Berlin dev
conv("c3_priya", [
    ("2023-11-02T10:00:00", [
        (U, "Hey, can you help me debug a Kubernetes issue?"),
        (A, "Sure, what's happening?"),
        (U, "Pods keep restarting. For context, I'm a software engineer at Zalando."),
        (A, "Let's look at the logs first."),
        (U, "Here's the API key for the cluster: sk-live-8f3a9c2d7e1b4a6f9c0d, can you check it?"),
        (A, "Please revoke that key; never paste keys into chats."),
        (U, "Oops, okay. I live in Berlin, and it's 2am here, so excuse the typos."),
        (U, "My husband Arjun is asleep, so I'm whispering at my keyboard."),
        (A, "Ha, let's fix this quickly then."),
        (U, "I have two kids, so sleep is rare anyway."),
        (U, "I'm lactose intolerant, so no ice cream as a reward either."),
    ]),
    ("2023-11-15T21:00:00", [
        (U, "Back again. The pods are fine now, thanks!"),
        (A, "Great to hear."),
        (U, "I work at Zalando on the checkout team, and we had a big release today."),
        (A, "How did it go?"),
        (U, "Smoothly. Arjun, my husband, made dinner to celebrate."),
        (U, "I speak Hindi and Kannada with my parents on the phone."),
        (A, "Where do your parents live?"),
        (U, "My mom lives in Bangalore, my dad passed away."),
        (U, "I'm lactose intolerant, so dessert was a sad fruit salad."),
    ]),
    ("2023-12-03T09:00:00", [
        (U, "Weekend! Berlin is grey and cold, as always. I've lived in Berlin for three years."),
        (A, "Any plans?"),
        (U, "I play badminton on Saturdays with friends."),
        (U, "Also I have 2 kids, both sick this week."),
        (A, "Hope they feel better soon."),
        (U, "I wish I spoke German properly, it would make the doctor visits easier."),
        (U, "I speak Kannada at home with the kids though."),
        (A, "That's lovely for them."),
    ]),
    ("2023-12-20T18:00:00", [
        (U, "My OTP is 552910, why does the bank app keep asking?"),
        (A, "Don't share one-time codes with anyone."),
        (U, "Right. I'm a software engineer, I should know better."),
        (U, "My husband's name is Arjun, by the way, you keep asking who cooks."),
        (U, "Maybe I'll move to Amsterdam someday."),
        (A, "Amsterdam is nice, but Berlin has its charm."),
    ]),
], positive=[
    ("job title", "software engineer"), ("employer", "Zalando"), ("home city", "Berlin"),
    ("husband's name", "Arjun"), ("number of kids", "two"), ("intolerance", "lactose"),
    ("speaks language", "Kannada"),
], negative=[
    ("speaks language", "Hindi", "single session"), ("speaks language", "German", "wish"),
    ("plays sport", "badminton", "single session"), ("mother's home city", "Bangalore", "single session"),
    ("home city", "Amsterdam", "hypothetical"), ("api key", "sk-live-8f3a9c2d7e1b4a6f9c0d", "secret"),
    ("otp", "552910", "secret"),
])

# ---------------------------------------------------------------- c4: Tom, retired teacher
conv("c4_tom", [
    ("2024-05-02T09:00:00", [
        (U, "Good morning. My granddaughter set you up for me, so bear with me."),
        (A, "Of course! How can I help?"),
        (U, "I'm 72 years old and not great with computers."),
        (A, "No problem at all."),
        (U, "I was a history teacher for forty years. I'm retired now."),
        (U, "I live in Galway, right by the sea."),
        (A, "Galway is lovely."),
        (U, "My wife is called Maeve, she's the tech person in the house."),
        (U, "I have type 2 diabetes, so I need recipes with little sugar."),
        (A, "I can help with that."),
        (U, "My dog is called Seamus, an old sheepdog."),
    ]),
    ("2024-05-09T09:30:00", [
        (U, "Hello again. Maeve, my wife, says hello."),
        (A, "Hello to Maeve!"),
        (U, "Seamus, my dog, had a bath and is sulking."),
        (U, "I play the fiddle at the pub on Thursdays."),
        (A, "Traditional music?"),
        (U, "Yes. I play the violin, really, but here we call it a fiddle."),
        (U, "I have type 2 diabetes, remember, so no scones for me."),
        (A, "Noted, low-sugar options."),
    ]),
    ("2024-05-20T10:00:00", [
        (U, "Seamus is my dog and he ran off after a seagull today."),
        (A, "Did you find him?"),
        (U, "Yes, on the beach. I live in Galway so the beach is our garden."),
        (U, "I'm 72, too old to chase dogs."),
        (A, "Ha, sounds like a good workout though."),
        (U, "My granddaughter Aoife is visiting from Cork."),
        (U, "I play the violin for her every time she comes."),
        (U, "My wife Maeve bakes for her, sugar-free for me."),
    ]),
    ("2024-06-01T11:00:00", [
        (U, "What's the weather like in Galway this week?"),
        (A, "Mild with showers, typical Galway."),
        (U, "My bank's security code is 7731, I keep writing it on the fridge."),
        (A, "Please keep codes private."),
        (U, "You told me my dog's name was Rex, but no, it's Seamus!"),
    ]),
], positive=[
    ("age", "72"), ("home city", "Galway"), ("wife's name", "Maeve"),
    ("medical condition", "type 2 diabetes"), ("dog's name", "Seamus"), ("plays instrument", "violin"),
], negative=[
    ("granddaughter's name", "Aoife", "single session"), ("dog's name", "Rex", "not a statement"),
    ("plays instrument", "fiddle", "single session"), ("security code", "7731", "secret"),
])

# ---------------------------------------------------------------- c5: Lena, student
conv("c5_lena", [
    ("2024-09-03T15:00:00", [
        (U, "hiii. first week of semester, I'm exhausted"),
        (A, "What are you studying?"),
        (U, "I'm studying marine biology, it's my first year"),
        (U, "I study at the University of Bergen, the campus is gorgeous"),
        (A, "Bergen has great marine research."),
        (U, "yes! I'm from Hamburg originally, so I'm used to rain"),
        (U, "my roommate Sofie is from Oslo"),
        (A, "Do you two get along?"),
        (U, "totally. I'm vegan and she cooks vegan for me sometimes"),
        (U, "also I'm allergic to cats, and Sofie has a cat. great combo"),
        (A, "Oh no, antihistamines?"),
    ]),
    ("2024-09-17T16:00:00", [
        (U, "lab day today. I'm doing marine biology because of octopuses, not gonna lie"),
        (A, "Octopuses are amazing."),
        (U, "I'm a vegan, so the field trip catering was just bread lol"),
        (U, "Sofie, my roommate, brought me hummus though"),
        (A, "Good roommate."),
        (U, "my username on the lab system is lena.k and my password is Octopus!9"),
        (A, "Please don't share passwords."),
        (U, "I play the ukulele to relax"),
    ]),
    ("2024-10-01T20:00:00", [
        (U, "Exam season already. I study marine biology and everything is chemistry somehow"),
        (A, "Chemistry is everywhere in biology."),
        (U, "I grew up in Hamburg so German chemistry textbooks would help"),
        (U, "I'm allergic to cats, I sneezed through the whole study session at Sofie's"),
        (U, "I'm a student at the University of Bergen and the library is always full"),
        (A, "Try going early."),
        (U, "If I had a car I'd drive to the countryside to study"),
    ]),
    ("2024-10-20T12:00:00", [
        (U, "What's a good vegan protein source?"),
        (A, "Lentils, tofu, tempeh."),
        (U, "my roommate Sofie says tofu is boring"),
        (U, "I speak German and Norwegian now, well, Norwegian a bit"),
        (A, "Impressive!"),
    ]),
], positive=[
    ("field of study", "marine biology"), ("school", "the University of Bergen"),
    ("hometown", "Hamburg"), ("roommate's name", "Sofie"), ("diet", "vegan"), ("allergy", "cats"),
], negative=[
    ("plays instrument", "ukulele", "single session"), ("car", "car", "hypothetical"),
    ("password", "Octopus!9", "secret"), ("speaks language", "German", "single session"),
    ("speaks language", "Norwegian", "single session"),
])

# ---------------------------------------------------------------- c6: Diego, Austin → Denver
conv("c6_diego", [
    ("2023-06-05T19:00:00", [
        (U, "Hey! Quick question about sourdough."),
        (A, "Happy to help. What's up?"),
        (U, "My starter is called Doughvid, don't judge. Anyway it's not rising."),
        (A, "Try a warmer spot."),
        (U, "I live in Austin, it's 100 degrees, warm isn't the issue haha"),
        (U, "I work as an electrician, so baking is my chill hobby"),
        (A, "Nice contrast."),
        (U, "My daughter Lucia loves the bread at least"),
        (U, "I drive a Ford F-150, which is how I haul flour, apparently"),
        (U, "I speak Spanish with Lucia at home"),
        (U, "I support Real Madrid, by the way, if you ever need a topic"),
    ]),
    ("2023-06-19T20:00:00", [
        (U, "Bread update: it rose!"),
        (A, "Congrats!"),
        (U, "Lucia, my daughter, ate half the loaf."),
        (U, "I'm an electrician, long day on a roof today."),
        (A, "Stay hydrated out there."),
        (U, "I speak Spanish and English, Lucia only Spanish at home, we're strict."),
        (U, "I drive an F-150 and the AC just died, great timing"),
        (U, "my SSN is 123-45-6789 for the tax form you're helping with"),
        (A, "Please don't share your SSN here."),
    ]),
    ("2023-08-01T18:00:00", [
        (U, "So, huge change: we moved to Denver last week. My wife got a job there."),
        (A, "Big move! How is it?"),
        (U, "Cooler. My wife's name is Carmen, she's a nurse at the children's hospital."),
        (U, "I support Real Madrid, and the bar here shows every game."),
        (A, "Lucky!"),
        (U, "My daughter is called Lucia and she already has a friend next door."),
    ]),
    ("2023-09-10T10:00:00", [
        (U, "Denver altitude wrecks my sourdough. I live in Denver now, 5,280 feet."),
        (A, "Reduce yeast and increase hydration."),
        (U, "Carmen, my wife, says the bread is still great."),
        (U, "I'm an electrician, union job here too, so that's sorted."),
        (U, "I used to live in El Paso as a kid."),
    ]),
], positive=[
    ("home city", "Denver"), ("job title", "electrician"), ("daughter's name", "Lucia"),
    ("car", "Ford F-150"), ("speaks language", "Spanish"), ("wife's name", "Carmen"),
    ("supports team", "Real Madrid"),
], negative=[
    ("home city", "Austin", "superseded"), ("speaks language", "English", "single session"),
    ("home city", "El Paso", "past"), ("ssn", "123-45-6789", "secret"),
])

# ---------------------------------------------------------------- c7: Akiko, designer
conv("c7_akiko", [
    ("2024-02-01T11:00:00", [
        (U, "Hello! I need feedback on a logo."),
        (A, "Sure, describe it."),
        (U, "It's for a bakery. I'm a graphic designer, freelance."),
        (U, "I live in Osaka, so the client is just down the street."),
        (A, "Osaka has great food too."),
        (U, "My favorite typeface is Futura, I use it for everything."),
        (U, "My partner's name is Kenji and he says the logo is too pink."),
        (A, "Maybe try a softer pink?"),
        (U, "I have a rabbit named Mochi who sits on my sketches."),
        (U, "I'm allergic to shellfish, so the seafood bakery idea is out lol"),
    ]),
    ("2024-02-14T13:00:00", [
        (U, "Valentine's day! Kenji, my partner, bought me flowers."),
        (A, "Sweet!"),
        (U, "I'm a graphic designer so I redesigned the card he got me."),
        (U, "My rabbit Mochi ate one of the roses."),
        (A, "Rabbits and roses!"),
        (U, "My favorite typeface is Futura, I put it on the card."),
        (U, "I'm allergic to shellfish, dinner was sushi without shrimp."),
    ]),
    ("2024-03-05T09:00:00", [
        (U, "New project, a ramen shop. I live in Osaka and ramen here is serious business."),
        (A, "What's the brief?"),
        (U, "Bold and warm. My wifi password is mochi-kenji-88, the client asked for it, weird."),
        (A, "You might not want to share that."),
        (U, "I play the piano a bit to relax between drafts."),
        (U, "I play the piano badly, to be honest, but it helps."),
    ]),
    ("2024-03-20T16:00:00", [
        (U, "Kenji says hi. He's my partner, in case you forgot."),
        (A, "Hi Kenji!"),
        (U, "Mochi, my rabbit, has a vet appointment today."),
        (U, "Do you think I could become an art director someday?"),
        (A, "Absolutely, with your portfolio."),
    ]),
], positive=[
    ("job title", "graphic designer"), ("home city", "Osaka"), ("favorite typeface", "Futura"),
    ("partner's name", "Kenji"), ("rabbit's name", "Mochi"), ("allergy", "shellfish"),
], negative=[
    ("plays instrument", "piano", "one session only"), ("job title", "art director", "hypothetical"),
    ("wifi password", "mochi-kenji-88", "secret"),
])


def main() -> None:
    out = HERE / "devset"
    out.mkdir(exist_ok=True)
    labels = {}
    for name, c in CONVERSATIONS.items():
        with (out / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for n, (start, turns) in enumerate(c["sessions"], 1):
                hh, mm = int(start[11:13]), int(start[14:16])
                for i, (role, text) in enumerate(turns):
                    m = mm + i
                    t = f"{start[:11]}{hh + m // 60:02d}:{m % 60:02d}:00"
                    fh.write(json.dumps({"session": f"{name}-s{n}", "role": role, "content": text,
                                         "time": t}, ensure_ascii=False) + "\n")
        labels[name] = {
            "positive": [{"attribute": a, "value": v} for a, v in c["positive"]],
            "negative": [{"attribute": a, "value": v, "why": w} for a, v, w in c["negative"]],
        }
    (HERE / "labels.json").write_text(json.dumps(labels, indent=2, ensure_ascii=False) + "\n")
    npos = sum(len(c["positive"]) for c in CONVERSATIONS.values())
    print(f"{len(CONVERSATIONS)} conversations, {npos} repeated facts -> {out}")


if __name__ == "__main__":
    main()
